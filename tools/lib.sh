# shellcheck shell=bash
# tools/lib.sh: set-up shared by ./tools/check and ./tools/demo: install
# what a fresh Debian machine lacks, then build out of tree.

sc_top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# Debian packages the build, the tests and the fuzzers need. man-db and
# groff-base render the man pages (tests/dist/man_pages.sh); systemd gives
# systemd-analyze and systemd-sysusers (tests/dist/systemd_units.sh).
# Installing systemd in a container only adds files: it does not become
# the init, and the tests only read unit files with it.
SC_PACKAGES=(build-essential autoconf automake autoconf-archive libtool
  pkg-config libev-dev libsodium-dev libsqlite3-dev check clang
  libclang-rt-dev jq perl iproute2 ffmpeg curl nftables man-db groff-base
  systemd socat)

sc_say() { printf '\n==> %s\n' "$*"; }

sc_die() {
  echo "error: $*" >&2
  exit 1
}

sc_as_root() {
  if [ "$(id -u)" -eq 0 ]; then
    "$@"
  elif command -v sudo >/dev/null; then
    sudo "$@"
  else
    sc_die "need root to run: $*"
  fi
}

# sc_install_deps [PACKAGE]...: installs those of SC_PACKAGES and PACKAGE...
# that are not installed yet.
sc_install_deps() {
  local missing=() p
  for p in "${SC_PACKAGES[@]}" "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
      missing+=("$p")
  done
  if [ ${#missing[@]} -eq 0 ]; then
    return 0
  fi
  sc_say "installing ${missing[*]}"
  sc_as_root apt-get update -q
  sc_as_root env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -q --no-install-recommends "${missing[@]}"
}

# Generates ./configure when it is missing or older than its inputs.
sc_autoreconf() {
  if [ ! -x "$sc_top/configure" ] ||
    [ "$sc_top/configure.ac" -nt "$sc_top/configure" ] ||
    [ "$sc_top/Makefile.am" -nt "$sc_top/Makefile.in" ]; then
    sc_say "autoreconf"
    (cd "$sc_top" && autoreconf -fi)
  fi
}

# sc_build DIR [CONFIGURE-ARGS...]: configures and builds in DIR.
sc_build() {
  local dir=$1
  shift
  mkdir -p "$dir"
  sc_say "configure $* (in ${dir#"$sc_top"/})"
  (cd "$dir" && "$sc_top/configure" -q "$@")
  sc_say "make (in ${dir#"$sc_top"/})"
  make -C "$dir" -s -j"$(nproc)"
}
