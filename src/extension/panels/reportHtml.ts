// report.html shown inside a webview (Open Run Report): the file as written, with a
// Content-Security-Policy that runs no script and loads nothing from the network. The report is
// static HTML with inline SVG and inline styles, so it reads the same in VS Code desktop, in
// code-server (where opening a file:// link does nothing) and in a browser. No vscode import.

/** The CSP for a report: inline styles and images only; no script, no network. */
export function reportContentSecurityPolicy(cspSource: string): string {
  return ["default-src 'none'", `img-src ${cspSource} data:`, `style-src ${cspSource} 'unsafe-inline'`, `font-src ${cspSource}`].join('; ');
}

/** `html` with the report CSP as the first element of its head (one is added when it has none), scripts removed. */
export function reportWebviewHtml(html: string, cspSource: string): string {
  const meta = `<meta http-equiv="Content-Security-Policy" content="${reportContentSecurityPolicy(cspSource)}">`;
  const withoutScripts = html.replace(/<script\b[\s\S]*?<\/script\s*>/gi, '');
  if (/<head\b[^>]*>/i.test(withoutScripts)) return withoutScripts.replace(/<head\b[^>]*>/i, (head) => `${head}${meta}`);
  return `<!DOCTYPE html><html><head>${meta}</head><body>${withoutScripts}</body></html>`;
}
