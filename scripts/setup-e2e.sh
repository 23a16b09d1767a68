#!/usr/bin/env bash
# Installs what the end-to-end workbench test (test/e2e/) needs, offline but for apt and the npm
# registry: Debian's Chromium (never a Playwright browser download), ripgrep and libkrb5-dev from
# apt, and code-server into .e2e/ (gitignored; not a dependency of the extension). Idempotent: a
# second run only checks. Recipe and reasons: code-server 4.100.3 is the newest release whose
# engines.node is 20 (it holds VS Code 1.100.3).
set -euo pipefail
cd "$(dirname "$0")/.."

CODE_SERVER_VERSION=4.100.3
E2E_DIR="$PWD/.e2e"
MARKER="$E2E_DIR/.installed-code-server-$CODE_SERVER_VERSION"

say() { printf 'setup-e2e: %s\n' "$*" >&2; }

# 1. System packages: a browser, ripgrep (code-server's search and the offline ripgrep below),
#    Kerberos headers (code-server's kerberos module builds from source) and a C++ toolchain.
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v rg >/dev/null 2>&1 || missing+=(ripgrep)
dpkg -s libkrb5-dev >/dev/null 2>&1 || missing+=(libkrb5-dev)
command -v g++ >/dev/null 2>&1 || missing+=(g++)
command -v make >/dev/null 2>&1 || missing+=(make)
command -v python3 >/dev/null 2>&1 || missing+=(python3)
if ((${#missing[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    say "missing ${missing[*]}; run as root, or: sudo apt-get install -y ${missing[*]}"
    exit 1
  fi
  say "apt-get install ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # Waits for another apt (an unattended upgrade, a parallel job) instead of failing on its lock.
  apt-get -o DPkg::Lock::Timeout=600 update -qq
  apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# 2. code-server into .e2e/.
if [[ -f "$MARKER" && -x "$E2E_DIR/node_modules/.bin/code-server" ]]; then
  say "code-server $CODE_SERVER_VERSION present in $E2E_DIR"
  exit 0
fi

case "$(uname -m)" in
  x86_64) rg_target=x86_64-unknown-linux-musl ;;
  aarch64) rg_target=aarch64-unknown-linux-musl ;;
  *) say "no ripgrep target known for $(uname -m)"; exit 1 ;;
esac

mkdir -p "$E2E_DIR"
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT

# @vscode/ripgrep downloads rg from GitHub in its postinstall unless its cache (under TMPDIR)
# already holds the tarball: fill it with Debian's binary.
rg_cache="$scratch/vscode-ripgrep-cache-1.15.11"
mkdir -p "$rg_cache" "$scratch/rg"
cp "$(command -v rg)" "$scratch/rg/rg"
tar -czf "$rg_cache/ripgrep-v13.0.0-10-$rg_target.tar.gz" -C "$scratch/rg" rg

# The folder is its own npm project, so npm never walks up into the extension's package.json.
[[ -f "$E2E_DIR/package.json" ]] || printf '{ "name": "icl-lab-e2e-tools", "private": true }\n' > "$E2E_DIR/package.json"

say "npm install code-server@$CODE_SERVER_VERSION into $E2E_DIR (about a minute)"
started=$SECONDS
# unsafe_perm: lifecycle scripts as root; yes: node-pty's postinstall runs `npx node-gyp`;
# nodedir: the headers beside the running Node (scripts/nodeHeaders.mjs), not a download.
nodedir_env=()
if nodedir="$(node scripts/nodeHeaders.mjs)"; then
  nodedir_env=(npm_config_nodedir="$nodedir")
else
  say "no Node headers beside $(command -v node) (../include/node): node-gyp falls back to its header cache or a download,"
  say "which fails offline; install Node 20 with its headers (nvm, the official tarball or Debian's nodejs package)"
fi
env TMPDIR="$scratch" npm_config_unsafe_perm=true npm_config_yes=true "${nodedir_env[@]}" \
  npm install --prefix "$E2E_DIR" --no-audit --no-fund --foreground-scripts --loglevel=error \
  "code-server@$CODE_SERVER_VERSION" > "$scratch/npm.log" 2>&1 || {
    tail -n 60 "$scratch/npm.log" >&2
    say "npm install code-server failed (log above)"
    exit 1
  }
"$E2E_DIR/node_modules/.bin/code-server" --version >/dev/null
touch "$MARKER"
say "code-server $CODE_SERVER_VERSION installed in $((SECONDS - started)) s"
