# common.sh: shared by scripts/demo and scripts/test (sourced, not run).

# ensure_packages PKG...: install the Debian packages that are missing, and only those.
# Idempotent: when everything is present it does not touch apt at all.
ensure_packages() {
  local missing=() pkg
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  local sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "error: need root (or sudo) to install: ${missing[*]}" >&2; return 1; }
    sudo=(sudo)
  fi
  echo "==> installing Debian packages: ${missing[*]}" >&2
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# Packages to build the engine and its tools (compiler, meson, the libraries suga uses).
BUILD_PACKAGES=(gcc libc6-dev meson ninja-build pkg-config libyaml-dev libcmph-dev libjansson-dev libssl-dev libhttp-parser-dev libcurl4-openssl-dev)
# Extra packages for the test suites: Criterion, clang + its sanitizer/libFuzzer runtime,
# python3 for the synthetic-spec generator and the Lambda Runtime API emulator (tests/fixtures/),
# python3-yaml for the SAM template check, python3-jsonschema for the Alexa message schema, openssl
# for the TLS tests' certificates, ca-certificates for the CA bundle libcurl verifies against by
# default (as provided.al2023 has one), curl for the fake CloudWatch's tests (its --aws-sigv4 is
# libcurl's SigV4 signer, an independent check of the fake's signature verification).
TEST_PACKAGES=(libcriterion-dev clang libclang-rt-14-dev python3 python3-yaml python3-jsonschema openssl ca-certificates curl)
# Extra packages for scripts/package (the Lambda zip) and its test: zip/unzip.
PACKAGE_PACKAGES=(zip unzip)

# configure_build DIR [meson options...]: set up DIR once, reconfigure when options change.
configure_build() {
  local dir=$1
  shift
  if [ -f "$dir/build.ninja" ]; then
    meson configure "$dir" "$@" >/dev/null
  else
    meson setup "$dir" "$@" >/dev/null
  fi
}
