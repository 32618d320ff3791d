# Sourced by .ci/run. `use_node <major>` puts Node.js <major> first on PATH:
# the machine's own when it is already that line, otherwise the official
# binary from the npm registry's `node-linux-<arch>` package (what the
# registry's `node` package installs, without its install script), cached in
# ~/.cache/pulse-node/<major>. npm itself then runs on that Node too.
use_node() {
  local major=$1
  if [ "$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null)" != "$major" ]; then
    local arch dir
    arch=$(node -p process.arch)
    dir="${PULSE_NODE_CACHE:-$HOME/.cache/pulse-node}/$major"
    if [ ! -x "$dir/node_modules/node-linux-$arch/bin/node" ]; then
      npm install --no-save --no-audit --no-fund --loglevel=error --prefix "$dir" "node-linux-$arch@$major" >/dev/null
    fi
    export PATH="$dir/node_modules/node-linux-$arch/bin:$PATH"
  fi
  printf 'node %s, npm %s\n' "$(node -v)" "$(npm -v)"
}
