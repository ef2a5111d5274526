# Shared by scripts/images (which builds the images) and containers/smoke
# (the ctest that checks the same file tree without building an image):
# what each image holds, which Debian packages its binaries need, and how
# the runtime base is made from a debootstrap'ed Debian. Source it; it
# defines functions and variables only.
#
# The runtime libraries come from Debian's packages, installed with apt
# inside the debootstrap'ed root (not copied from the build machine with
# ldd): each library keeps its copyright file under /usr/share/doc, dpkg's
# status names every package and version for scanners, and ldconfig and the
# packages' own scripts (ca-certificates) run as Debian intends. ldd decides
# only which packages: the owners of the libraries the binaries load.

# The images, each named switchboard/<image> (the chart's repositories,
# helm/switchboard/values.yaml).
sb_images=(router sbc-gateway graph-gateway web tools)

# The user every image runs as: the chart's podSecurityContext
# (runAsUser/runAsGroup/fsGroup 10001).
sb_uid=10001
sb_gid=10001

# Debian release of the base, and packages installed beside the libraries:
# catatonit as PID 1, CA certificates for HTTPS clients (Graph, OpenID
# keys), time zones for business hours.
sb_suite=bookworm
sb_base_extra_packages=(catatonit ca-certificates tzdata)

# Binaries of an image, as paths in a CMake build folder.
sb_image_binaries() {
  case "$1" in
    router) echo nodes/router/switchboard-router ;;
    sbc-gateway) echo nodes/sbc_gateway/switchboard-sbc-gateway ;;
    graph-gateway) echo nodes/graph_gateway/switchboard-graph-gateway ;;
    web) echo nodes/web/switchboard-web ;;
    # The CLI, and the load generator for acceptance runs against a cluster.
    tools) echo nodes/cli/switchboard bench/switchboard-loadgen ;;
    *) echo "unknown image '$1'" >&2; return 1 ;;
  esac
}

# Every binary of every image.
sb_all_binaries() {
  local image
  for image in "${sb_images[@]}"; do sb_image_binaries "$image"; done
}

# sb_stage_image IMAGE BUILD_DIR DEST: the image's own files (the layer
# above the base) into DEST: binaries in /usr/bin, stripped; the web edge's
# app in /usr/share/switchboard/web, where switchboard-web looks beside its
# binary (bin/../share/switchboard/web).
sb_stage_image() {
  local image=$1 build=$2 dest=$3 bin
  mkdir -p "$dest/usr/bin"
  for bin in $(sb_image_binaries "$image"); do
    if [ ! -x "$build/$bin" ]; then
      echo "images: $build/$bin is missing (build it first)" >&2
      return 1
    fi
    install -m 0755 "$build/$bin" "$dest/usr/bin/"
    strip --strip-unneeded "$dest/usr/bin/${bin##*/}"
  done
  if [ "$image" = web ]; then
    if [ ! -f "$build/web-app/index.html" ]; then
      echo "images: $build/web-app/index.html is missing (build target switchboard_web_app)" >&2
      return 1
    fi
    mkdir -p "$dest/usr/share/switchboard/web"
    cp -R "$build/web-app/." "$dest/usr/share/switchboard/web/"
  fi
  # Only what the build chose: no group- or world-writable file.
  find "$dest" -type d -exec chmod 0755 {} +
  find "$dest" -type f ! -perm -u+x -exec chmod 0644 {} +
}

# The paths dpkg may know a file by: as given, resolved, and on the other
# side of the /usr merge (dpkg knows /lib/x86_64-linux-gnu/libc.so.6, ldd
# may say /usr/lib/...).
sb_path_variants() {
  local c
  for c in "$1" "$(readlink -f "$1")"; do
    echo "$c"
    case "$c" in
      /usr/*) echo "${c#/usr}" ;;
      *) echo "/usr$c" ;;
    esac
  done
}

# sb_runtime_packages BINARY...: the Debian packages owning every shared
# library the binaries load (ldd gives the whole closure), sorted. Fails
# on a library ldd cannot find or no package owns.
sb_runtime_packages() {
  local out lib pkg c bad=0
  out=$(ldd "$@") || {
    echo "images: ldd failed on $*" >&2
    return 1
  }
  if grep -q 'not found' <<<"$out"; then
    echo "images: libraries not found:" >&2
    grep 'not found' <<<"$out" >&2
    return 1
  fi
  local libs=() variants=()
  mapfile -t libs < <(awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\/.*ld-linux/ {print $1}' <<<"$out" | sort -u)
  for lib in "${libs[@]}"; do mapfile -t -O "${#variants[@]}" variants < <(sb_path_variants "$lib"); done
  # One dpkg query for every path: "libfoo1:amd64: /path" per owned path.
  declare -A owner=()
  while IFS= read -r line; do
    pkg=${line%%: /*}
    owner[${line#*: }]=${pkg%%[:,]*}
  done < <(dpkg-query -S "${variants[@]}" 2>/dev/null || true)
  {
    for lib in "${libs[@]}"; do
      pkg=""
      for c in $(sb_path_variants "$lib"); do
        pkg=${owner[$c]:-}
        [ -n "$pkg" ] && break
      done
      if [ -n "$pkg" ]; then
        echo "$pkg"
      else
        echo "images: $lib belongs to no Debian package; install it from Debian" >&2
        bad=1
      fi
    done
  } | LC_ALL=C sort -u
  return "$bad"
}

# The Debian sources of this machine (deb822), without third-party
# repositories: the base installs from the same mirror, suites and
# security updates as the build machine had.
sb_debian_sources() {
  local f
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    awk 'BEGIN { RS = ""; ORS = "\n\n" }
         {
           keep = 0
           n = split($0, lines, "\n")
           for (i = 1; i <= n; i++)
             if (lines[i] ~ /^URIs:/ && lines[i] ~ /\/debian(-security)?\/?$/) keep = 1
           if (!keep) next
           out = ""
           for (i = 1; i <= n; i++)
             if (lines[i] !~ /^#/) out = out lines[i] "\n"
           printf "%s\n", out
         }' "$f"
  done
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] || continue
    awk '/^deb / && $0 ~ /\/debian(-security)?\/? / {print}' "$f"
  done
}

# The Debian mirror debootstrap fetches from: the first one configured.
sb_debian_mirror() {
  sb_debian_sources | awk '
    /^URIs:/ && $2 !~ /security/ { print $2; exit }
    /^deb / { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\// && $i !~ /security/) { print $i; exit } }'
}

# sb_make_base_root ROOT TARBALL PACKAGE...: a minimal Debian in ROOT from
# debootstrap's package tarball, upgraded from the security suite, with
# the packages, the user and the folders the images share, then without
# apt and dpkg, documentation or anything that differs from run to run.
sb_make_base_root() {
  local root=$1 tarball=$2
  shift 2
  local mirror
  mirror=$(sb_debian_mirror)
  debootstrap --variant=minbase --unpack-tarball="$(readlink -f "$tarball")" \
    "$sb_suite" "$root" "$mirror" >"$root.debootstrap.log" 2>&1 || {
    tail -n 20 "$root.debootstrap.log" >&2
    echo "images: debootstrap failed (log: $root.debootstrap.log)" >&2
    return 1
  }

  # apt inside the root, from this machine's Debian sources.
  rm -f "$root/etc/apt/sources.list"
  sb_debian_sources >"$root/etc/apt/sources.list.d/debian.sources"
  cp /etc/resolv.conf "$root/etc/resolv.conf"
  printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
  chmod 0755 "$root/usr/sbin/policy-rc.d"
  # Keep only copyright files of documentation, no manuals or translations.
  cat >"$root/etc/dpkg/dpkg.cfg.d/switchboard-excludes" <<'EOF'
path-exclude=/usr/share/doc/*
path-include=/usr/share/doc/*/copyright
path-exclude=/usr/share/man/*
path-exclude=/usr/share/info/*
path-exclude=/usr/share/locale/*
path-exclude=/usr/share/lintian/*
EOF
  local apt=(env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive
    LC_ALL=C.UTF-8 chroot "$root" apt-get -qq -o Dpkg::Use-Pty=0)
  {
    "${apt[@]}" update &&
      "${apt[@]}" -y upgrade &&
      "${apt[@]}" -y install --no-install-recommends "$@"
  } >"$root.apt.log" 2>&1 || {
    tail -n 20 "$root.apt.log" >&2
    echo "images: apt-get in the base failed (log: $root.apt.log)" >&2
    return 1
  }
  chroot "$root" dpkg-query -W -f='${Package} ${Version}\n' >"$root.packages"

  # No package manager in the runtime: apt purged, dpkg's programs gone.
  # dpkg's status stays, so that scanners see what is installed.
  chroot "$root" dpkg --purge --force-remove-essential --force-remove-protected \
    --force-depends apt >>"$root.apt.log" 2>&1
  rm -rf "$root"/usr/bin/dpkg* "$root"/usr/bin/apt* "$root"/etc/apt \
    "$root"/var/lib/apt "$root"/var/cache/apt "$root"/usr/sbin/policy-rc.d \
    "$root"/etc/dpkg/dpkg.cfg.d/switchboard-excludes
  find "$root/usr/share/doc" -mindepth 2 ! -name copyright ! -type d -delete
  rm -rf "$root"/usr/share/man/* "$root"/usr/share/info/* "$root"/usr/share/locale/*

  # The user of every image; folders for data (a volume), configuration
  # (mounted) and the run-time files.
  echo "switchboard:x:$sb_uid:$sb_gid:Switchboard:/var/lib/switchboard:/usr/sbin/nologin" >>"$root/etc/passwd"
  echo "switchboard:x:$sb_gid:" >>"$root/etc/group"
  echo "switchboard:!::0:99999:7:::" >>"$root/etc/shadow"
  echo "switchboard:!::" >>"$root/etc/gshadow"
  install -d -m 0750 -o "$sb_uid" -g "$sb_gid" "$root/var/lib/switchboard"
  install -d -m 0755 "$root/etc/switchboard"

  # What differs between two runs on the same inputs: logs, caches,
  # backups, the host's names, the day each password was set.
  rm -rf "$root"/var/log/* "$root"/var/cache/debconf/*-old \
    "$root"/var/lib/dpkg/*-old "$root"/var/cache/ldconfig/aux-cache \
    "$root"/etc/*- "$root"/tmp/* "$root"/var/tmp/* "$root"/run/* \
    "$root"/dev/* "$root"/proc/* "$root"/sys/*
  : >"$root/etc/resolv.conf"
  : >"$root/etc/hostname"
  : >"$root/etc/machine-id"
  sed -i -E 's/^([^:]*:[^:]*:)[0-9]+:/\1:/' "$root/etc/shadow"
}

# sb_tar_root ROOT TAR EPOCH: ROOT as a tar with sorted names, numeric
# owners, and no time later than EPOCH (the same bytes for the same tree).
sb_tar_root() {
  tar -C "$1" --sort=name --numeric-owner --mtime="@$3" --clamp-mtime \
    --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime \
    --format=posix -cf "$2" .
}

# sb_root_from_host ROOT PACKAGE...: the packages' files as installed on
# this machine, with the /usr merge and ldconfig's cache: the smoke test's
# stand-in for apt in the base (no download, a few seconds).
sb_root_from_host() {
  local root=$1
  shift
  mkdir -p "$root"/usr/{bin,sbin,lib,lib64} "$root"/{etc,proc,tmp,dev}
  ln -sfn usr/bin "$root/bin"
  ln -sfn usr/sbin "$root/sbin"
  ln -sfn usr/lib "$root/lib"
  ln -sfn usr/lib64 "$root/lib64"
  dpkg-query -L "$@" | while read -r f; do
    [ -d "$f" ] && continue
    [ -e "$f" ] || [ -L "$f" ] || continue
    echo "${f#/}"
  done | LC_ALL=C sort -u | tar -C / --no-recursion -T - -cf - | tar -C "$root" -xf -
  echo 'include /etc/ld.so.conf.d/*.conf' >"$root/etc/ld.so.conf"
  ldconfig -r "$root"
}
