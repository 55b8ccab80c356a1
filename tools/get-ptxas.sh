#!/usr/bin/env bash
# Puts NVIDIA's PTX assembler (ptxas, CUDA 11.8) at <repo>/.tools/cuda/usr/bin/ptxas, for the Ptx tests.
# No GPU, no driver and no system change: it downloads Debian 12's non-free package nvidia-cuda-toolkit
# (~84 MB, the package that ships /usr/bin/ptxas) with a PRIVATE apt configuration under <repo>/.tools/apt
# (its own sources list with bookworm non-free, its own package lists and cache), then unpacks only ptxas.
# The machine's /etc/apt and /var/lib/apt are not touched, so this works as root or as any user, on a Debian 12
# whose sources lack non-free. Needs: apt-get and dpkg-deb (every Debian has them), network to deb.debian.org.
# Idempotent: a working ptxas already there -> nothing is downloaded. Override the mirror with FSR_DEBIAN_MIRROR.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dest="$repo/.tools/cuda"
ptxas="$dest/usr/bin/ptxas"
mirror="${FSR_DEBIAN_MIRROR:-http://deb.debian.org/debian}"

if [[ -x "$ptxas" ]] && "$ptxas" --version >/dev/null 2>&1; then
  echo "get-ptxas: $ptxas already present: $("$ptxas" --version | grep -o 'release [0-9.]*, V[0-9.]*')"
  exit 0
fi

for tool in apt-get dpkg-deb tar; do
  command -v "$tool" >/dev/null || { echo "get-ptxas: '$tool' not found; this script needs a Debian/Ubuntu system (apt-get, dpkg-deb)." >&2; exit 1; }
done

apt_dir="$repo/.tools/apt"
mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial" "$apt_dir/sources.list.d" "$apt_dir/download"
cat > "$apt_dir/sources.list.d/debian-bookworm-non-free.sources" <<SOURCES
Types: deb
URIs: $mirror
Suites: bookworm
Components: non-free
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SOURCES

apt_opts=(
  -o "Dir::Etc::SourceList=/dev/null"
  -o "Dir::Etc::SourceParts=$apt_dir/sources.list.d"
  -o "Dir::State::Lists=$apt_dir/lists"
  -o "Dir::State::status=/dev/null"
  -o "Dir::Cache=$apt_dir/cache"
  -o "Debug::NoLocking=1"
  -o "APT::Sandbox::User=$(id -un)"
  -o "Acquire::Retries=3"
)

start=$SECONDS
echo "get-ptxas: fetching the bookworm non-free package list from $mirror"
apt-get "${apt_opts[@]}" -qq update
echo "get-ptxas: downloading nvidia-cuda-toolkit (ships /usr/bin/ptxas)"
( cd "$apt_dir/download" && rm -f nvidia-cuda-toolkit_*.deb && apt-get "${apt_opts[@]}" -qq download nvidia-cuda-toolkit )
deb="$(ls "$apt_dir"/download/nvidia-cuda-toolkit_*.deb)"
echo "get-ptxas: $(basename "$deb"), $(( $(stat -c %s "$deb") / 1024 / 1024 )) MiB"

# Only ptxas (19 MB, needs nothing but glibc) out of the 170 MB the package unpacks to.
mkdir -p "$dest"
dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$dest" ./usr/bin/ptxas
rm -f "$deb"
"$ptxas" --version >/dev/null || { echo "get-ptxas: $ptxas was unpacked but does not run." >&2; exit 1; }
echo "get-ptxas: $ptxas ready in $(( SECONDS - start )) s: $("$ptxas" --version | grep -o 'release [0-9.]*, V[0-9.]*')"
