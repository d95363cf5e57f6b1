#!/usr/bin/env bash
# System packages onevox uses at run time (PortAudio, clipboard and typing tools) and the ones its
# end-to-end tests need (a virtual X display, a virtual PulseAudio microphone, a Tk target window; headless
# sway with a GTK3 target window for Wayland, run as an ordinary user reached through an ACL on /root;
# headless GNOME Mutter, GNOME Shell with gnome-settings-daemon's media keys (custom shortcuts), and KDE
# KWin). python3-gi and gir1.2-gtklayershell-0.1 draw the recording indicator on
# Wayland compositors with layer-shell (run by the system python3). curl drives `onevox serve` in its tests.
# espeak-ng and flite speak the generated test speech (flite's slt voice says spoken commands most clearly).
# Debian/Ubuntu; run as root or with sudo. Safe to run again.
set -euo pipefail
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
RUNTIME="libportaudio2 libsndfile1 xdotool xclip xsel x11-utils wtype wl-clipboard libwayland-client0 python3-gi gir1.2-gtklayershell-0.1"
TESTING="xvfb x11-xserver-utils pulseaudio pulseaudio-utils libasound2-plugins alsa-utils sox espeak-ng flite imagemagick python3-tk tk systemd sway grim python3-gi gir1.2-gtk-3.0 acl mutter gnome-shell gnome-settings-daemon dbus-daemon kwin-wayland xdg-desktop-portal xdg-desktop-portal-kde qtwayland5 curl"
pkgs="$RUNTIME"
if [ "${1:-}" = "--with-test" ]; then pkgs="$RUNTIME $TESTING"; fi
missing=""
for p in $pkgs; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
echo "system packages ready:$([ -n "$missing" ] && echo " installed$missing" || echo " nothing to install")"
