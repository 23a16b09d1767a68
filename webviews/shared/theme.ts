/// <reference lib="dom" />
// The editor's theme as chart colours: VS Code sets its colours as CSS variables on the webview's
// document (--vscode-editor-background, --vscode-charts-blue, …) and changes them, and the body's
// class, when the user switches themes.
import { reportChartTheme, type ChartTheme } from '../../src/core/report/charts.js';

/** The chart theme from a CSS variable reader; the report's colours where a variable is unset. */
export function chartThemeFromCss(read: (name: string) => string): ChartTheme {
  const v = (name: string, fallback: string) => read(name).trim() || fallback;
  const foreground = v('--vscode-editor-foreground', reportChartTheme.foreground);
  const named = ['blue', 'orange', 'green', 'red', 'purple', 'yellow'].map((c) => read(`--vscode-charts-${c}`).trim()).filter((c) => c !== '');
  return {
    background: v('--vscode-editor-background', reportChartTheme.background),
    foreground,
    subtleForeground: v('--vscode-descriptionForeground', foreground),
    lines: v('--vscode-charts-lines', reportChartTheme.lines),
    font: v('--vscode-font-family', reportChartTheme.font),
    primary: v('--vscode-charts-blue', reportChartTheme.primary),
    highlight: v('--vscode-charts-red', reportChartTheme.highlight),
    neutral: v('--vscode-charts-foreground', foreground),
    palette: [...named, ...reportChartTheme.palette.slice(named.length)],
  };
}

/** The document's current chart theme. */
export function currentChartTheme(doc: Document = document): ChartTheme {
  const style = getComputedStyle(doc.documentElement);
  return chartThemeFromCss((name) => style.getPropertyValue(name));
}

/** Calls `onChange` (debounced) when VS Code switches theme: the body's class or the root's variables change. */
export function watchTheme(onChange: () => void, doc: Document = document): void {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const observer = new MutationObserver(() => {
    if (timer !== undefined) clearTimeout(timer);
    timer = setTimeout(onChange, 50);
  });
  observer.observe(doc.body, { attributes: true, attributeFilter: ['class', 'data-vscode-theme-kind'] });
  observer.observe(doc.documentElement, { attributes: true, attributeFilter: ['style'] });
}
