# shellcheck shell=bash
# Part of scripts/setup-engine.sh (sourced; uses its `log`). What
# tests/fixtures/testhosts needs to build ssh test hosts in network namespaces:
#  - sshd (openssh-server) and ssh/ssh-keygen (openssh-client)
#  - nc (netcat-openbsd): the ssh ProxyCommand that reaches a host's LAN
#    address from inside the client netns
#  - /run/sshd: sshd's privilege-separation directory, which Debian's init
#    scripts would create but nothing starts here (no systemd; policy-rc.d
#    keeps the system sshd stopped, and it must stay stopped)
# Idempotent: installs only what is missing.

ssh_hosts_pkgs=()
[ -x /usr/sbin/sshd ] || ssh_hosts_pkgs+=(openssh-server)
command -v ssh-keygen >/dev/null 2>&1 || ssh_hosts_pkgs+=(openssh-client)
# netcat-traditional's nc also exists on Debian but lacks `-N`/proxy-friendly
# EOF handling; the ProxyCommand is written for the OpenBSD one.
nc -h 2>&1 | grep -q 'OpenBSD' || ssh_hosts_pkgs+=(netcat-openbsd)
if [ ${#ssh_hosts_pkgs[@]} -gt 0 ]; then
  log "installing ${ssh_hosts_pkgs[*]} (ssh test hosts)"
  export DEBIAN_FRONTEND=noninteractive
  # Other parts (or another developer) may hold the dpkg lock: wait for it.
  apt-get -o DPkg::Lock::Timeout=300 update -qq
  apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends "${ssh_hosts_pkgs[@]}" >/dev/null
fi
if [ ! -d /run/sshd ]; then
  log "creating /run/sshd (sshd privilege separation dir)"
  mkdir -p /run/sshd
  chmod 0755 /run/sshd
fi
unset ssh_hosts_pkgs
