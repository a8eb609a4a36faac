#!/usr/bin/env bash
# Gives this Debian bookworm machine a software Vulkan adapter that Dawn (the `webgpu` package)
# accepts, so the WebGPU backend's tests run without a GPU: Mesa 25's lavapipe/llvmpipe from
# bookworm-backports. Bookworm's own Mesa 22.3 lacks a feature Dawn requires and is refused.
# The backports suite is added with the URIs of the machine's existing Debian source, so it uses
# the same mirror. Safe to run again; does nothing when a new enough Mesa is installed.
set -euo pipefail

have=$(dpkg-query -W -f '${Version}' mesa-vulkan-drivers 2>/dev/null || true)
if [ -n "$have" ] && dpkg --compare-versions "$have" ge 25; then exit 0; fi
if ! grep -qs 'VERSION_CODENAME=bookworm' /etc/os-release; then
  echo "WebGPU tests need Mesa ≥ 25's mesa-vulkan-drivers (or a GPU with its Vulkan driver); this script knows only Debian bookworm." >&2
  exit 1
fi
if [ "$(id -u)" != 0 ]; then
  echo "The WebGPU tests need Mesa 25 from bookworm-backports: sudo $0" >&2
  exit 1
fi

uris=""
if [ -f /etc/apt/sources.list.d/debian.sources ]; then
  uris=$(awk '/^URIs:/ { u = $2 } /^Suites:/ { for (i = 2; i <= NF; i++) if ($i == "bookworm") { print u; exit } }' /etc/apt/sources.list.d/debian.sources)
fi
if [ -z "$uris" ]; then
  uris=$(awk '$1 == "deb" && $3 == "bookworm" { print $2; exit }' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null || true)
fi
if [ -z "$uris" ]; then
  echo "No Debian bookworm source found in /etc/apt to take the backports mirror from." >&2
  exit 1
fi
list=/etc/apt/sources.list.d/latent-atlas-backports.sources
printf 'Types: deb\nURIs: %s\nSuites: bookworm-backports\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' "$uris" > "$list"
echo "Installing Mesa's Vulkan drivers from bookworm-backports ($uris)"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends -t bookworm-backports mesa-vulkan-drivers >/dev/null
