#!/bin/bash
# Proves the .deb builds with the right metadata, installs with apt, creates the hids-agent user and gives it what it needs and no more, runs as that user, registers its conffile and unit, lints its man pages, upgrades in place, and purges clean (keeping the user).
set -u
top=${1:?usage: test_package.sh SOURCE_DIR BUILD_DIR}
build=${2:?usage: test_package.sh SOURCE_DIR BUILD_DIR}
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/deploy.sh"
export DEBIAN_FRONTEND=noninteractive
tmp=$(mktemp -d)
installed_by_us=false
user=hids-agent
user_before=false
getent passwd "$user" >/dev/null && user_before=true
cleanup() {
	"$installed_by_us" && purge_all
	# The package keeps its user on purge; the test does not, unless it was there before.
	if ! "$user_before" && getent passwd "$user" >/dev/null; then
		userdel "$user" 2>/dev/null
		getent group "$user" >/dev/null && groupdel "$user" 2>/dev/null
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT

if deb_installed; then
	skipped "package tests" "a hids-agent package is already on this machine; not touching it"
	summary
	exit
fi

if ! build_deb "$top" "$build/deploy-pkg"; then
	bad "cpack builds the .deb"
	summary
	exit 1
fi
ok "cpack builds $(basename "$deb")"
version=$(sed -n 's/^project(hids-agent VERSION \([0-9.]*\).*/\1/p' "$top/CMakeLists.txt")

# Metadata.
dpkg-deb -f "$deb" >"$tmp/control"
field() { sed -n "s/^$1: //p" "$tmp/control"; }
check "Package is hids-agent" test "$(field Package)" = hids-agent
check "Version is $version-1" test "$(field Version)" = "$version-1"
check "Section is admin" test "$(field Section)" = admin
check "Maintainer is set" test -n "$(field Maintainer)"
check "Description has a summary and a body" test "$(grep -c '^ ' "$tmp/control")" -ge 2
depends=$(field Depends)
echo "# Depends: $depends"
check "Depends names adduser (postinst creates the user)" grep -Eq '(^|, )adduser(,|$)' <<<"$depends"
# libjson-c: the text view (--format text, --read) parses the lines back.
for lib in libevent-2 libevent-openssl libmnl libjson-c libinih libssl libc6; do
	check "Depends names $lib" grep -q "$lib" <<<"$depends"
done
dpkg-deb -I "$deb" >"$tmp/info"
for f in conffiles postinst prerm postrm; do
	check "control archive has $f" grep -qE "^ +[0-9]+ bytes, +[0-9]+ lines +\*? +$f" "$tmp/info"
done
dpkg-deb -e "$deb" "$tmp/control.d"
check "conffiles lists the config" grep -qx /etc/hids-agent/hids-agent.conf "$tmp/control.d/conffiles"
check "maintainer scripts are executable" test -x "$tmp/control.d/postinst" -a -x "$tmp/control.d/prerm" -a -x "$tmp/control.d/postrm"
dpkg-deb -c "$deb" | awk '{print $NF}' >"$tmp/files"
for f in ./usr/sbin/hids-agent ./etc/hids-agent/hids-agent.conf ./lib/systemd/system/hids-agent.service \
    ./usr/share/man/man8/hids-agent.8.gz ./usr/share/man/man5/hids-agent.conf.5.gz \
    ./usr/share/doc/hids-agent/README.md ./usr/share/doc/hids-agent/operations.md \
    ./usr/share/doc/hids-agent/security.md ./usr/share/doc/hids-agent/siem.md \
    ./usr/share/doc/hids-agent/examples/hids-agent.conf ./usr/lib/sysusers.d/hids-agent.conf; do
	check "package holds $f" grep -qx "$f" "$tmp/files"
done
check "nothing under /usr/local" bash -c "! grep -q '^./usr/local' '$tmp/files'"
check "the binary is stripped" bash -c "dpkg-deb --fsys-tarfile '$deb' | tar -xO ./usr/sbin/hids-agent >'$tmp/bin' && ! readelf -S '$tmp/bin' | grep -q '\.symtab'"
"$here/test_hardening.sh" "$tmp/bin" >"$tmp/hardening.tap" 2>&1
check "the packaged binary keeps the build hardening (test_hardening.sh)" test $? -eq 0 ||
    grep -v '^ok' "$tmp/hardening.tap" | sed 's/^/# /'

# Install.
installed_by_us=true
apt-get install -y -qq "$deb" >"$tmp/apt.log" 2>&1
check "apt-get install ./$(basename "$deb") succeeds" test $? -eq 0 || tail -n 20 "$tmp/apt.log"
check "dpkg reports it installed" test "$(dpkg-query -W -f='${Status}' hids-agent)" = "install ok installed"
echo "# Installed-Size: $(dpkg-query -W -f='${Installed-Size}' hids-agent) KiB"
check "/usr/sbin/hids-agent --version prints $version" test "$(/usr/sbin/hids-agent --version)" = "hids-agent $version"
/usr/sbin/hids-agent --check-config >/dev/null 2>&1
check "the installed config is valid" test $? -eq 0
conffiles=$(dpkg-query -W -f='${Conffiles}' hids-agent)
check "the config is a registered conffile" grep -q '^ /etc/hids-agent/hids-agent.conf [0-9a-f]\{32\}$' <<<"$conffiles"

# The service's user: a system account that cannot log in, with a group of
# its own; it owns the spool and reads the config directory through the group.
pw=$(getent passwd "$user")
IFS=: read -r _ _ uid gid _ home shell <<<"$pw"
echo "# $pw"
check "postinst creates the system user $user" test -n "$pw" -a "${uid:-1000}" -lt 1000
check "  ... with its own group $user" test "$(getent group "${gid:-x}" | cut -d: -f1)" = "$user"
check "  ... home /nonexistent, no login shell" test "$home" = /nonexistent -a "$shell" = /usr/sbin/nologin
check "  ... in no other group" test "$(id -G "$user" 2>/dev/null)" = "$gid"
perms() { stat -c %a:%U:%G "$1" 2>/dev/null; }
check "/var/lib/hids-agent is 750 hids-agent:hids-agent" test "$(perms /var/lib/hids-agent)" = 750:$user:$user
check "/etc/hids-agent is 750 root:hids-agent" test "$(perms /etc/hids-agent)" = 750:root:$user
check "the config is 640 root:hids-agent" test "$(perms /etc/hids-agent/hids-agent.conf)" = 640:root:$user
sysusers=/usr/lib/sysusers.d/hids-agent.conf
if command -v systemd-sysusers >/dev/null; then
	systemd-sysusers --dry-run - <"$sysusers" >"$tmp/sysusers" 2>&1
	check "the sysusers.d file names the user postinst created (nothing left to create)" \
	    test $? -eq 0 -a ! -s "$tmp/sysusers" || cat "$tmp/sysusers"
	mkdir -p "$tmp/sysroot/etc"
	systemd-sysusers --root="$tmp/sysroot" - <"$sysusers" >/dev/null 2>&1
	IFS=: read -r _ _ _ _ _ shome sshell < <(grep "^$user:" "$tmp/sysroot/etc/passwd")
	check "systemd-sysusers makes the same user from it on an empty root" \
	    test "${shome:-}" = /nonexistent -a "${sshell:-}" = /usr/sbin/nologin
else
	skipped "the sysusers.d file" "systemd-sysusers is not installed"
fi

unit=/lib/systemd/system/hids-agent.service
check "the unit runs /usr/sbin/hids-agent" grep -q '^ExecStart=/usr/sbin/hids-agent -c /etc/hids-agent/hids-agent.conf$' "$unit"
check "the unit runs it as User=hids-agent, Group=hids-agent" \
    bash -c "grep -qx 'User=$user' '$unit' && grep -qx 'Group=$user' '$unit'"
for setting in LimitCORE=0 PrivateIPC=yes SocketBindDeny=any TasksMax=16 \
    'InaccessiblePaths=-/dev/shm -/dev/mqueue'; do
	check "the unit sets $setting" grep -qx "$setting" "$unit"
done
check "the unit's ambient capabilities are its bounding set" test \
    "$(sed -n 's/^AmbientCapabilities=//p' "$unit")" = "$(sed -n 's/^CapabilityBoundingSet=//p' "$unit")"
if command -v systemd-analyze >/dev/null; then
	systemd-analyze verify "$unit" >"$tmp/verify" 2>&1
	check "systemd-analyze verify passes on the installed unit" test $? -eq 0 -a ! -s "$tmp/verify" || cat "$tmp/verify"
	systemd-analyze security --offline=yes "$unit" >"$tmp/security" 2>&1
	score=$(sed -n 's/.*Overall exposure level for hids-agent.service: \([0-9.]*\).*/\1/p' "$tmp/security")
	echo "# systemd-analyze security exposure: ${score:-unknown}"
	grep '✗' "$tmp/security" | awk '{ printf "#   %s %s\n", $2, $NF }'
	check "security exposure is 2.1 or lower (got ${score:-none})" \
	    awk -v s="${score:-99}" 'BEGIN { exit !(s <= 2.1) }'
	check "systemd-analyze no longer flags User=, ProtectProc= or RemoveIPC=" \
	    bash -c "! grep -Eq '✗ (User=|ProtectProc=|RemoveIPC=)' '$tmp/security'"
else
	skipped "systemd-analyze verify" "systemd-analyze is not installed"
fi
check "the unit is enabled for multi-user.target" \
    test -L /etc/systemd/system/multi-user.target.wants/hids-agent.service
for page in man8/hids-agent.8.gz man5/hids-agent.conf.5.gz; do
	mandoc -T lint -W warning "/usr/share/man/$page" >"$tmp/lint" 2>&1
	check "mandoc -T lint is clean on $page" test $? -eq 0 -a ! -s "$tmp/lint" || cat "$tmp/lint"
done
if command -v man >/dev/null; then
	check "man finds hids-agent(8)" bash -c "man -w 8 hids-agent >/dev/null"
	check "man finds hids-agent.conf(5)" bash -c "man -w 5 hids-agent.conf >/dev/null"
else
	skipped "man finds the pages" "man-db is not installed"
fi

# The service: under systemd, through systemctl; elsewhere, the binary itself.
if [ -d /run/systemd/system ]; then
	systemctl start hids-agent.service
	check "systemctl start returns once the agent reported READY=1" \
	    test "$(systemctl is-active hids-agent.service)" = active
	mainpid=$(systemctl show -p MainPID --value hids-agent.service)
	capeff=$(sed -n 's/^CapEff:\t//p' "/proc/$mainpid/status" 2>/dev/null)
	echo "# CapEff of the running agent: $capeff"
	check "the running agent has no capability outside the bounding set" \
	    test $(( 0x${capeff:-ffffffffffffffff} & ~((1 << 12) | (1 << 19) | (1 << 23) | (1 << 2)) )) -eq 0
	systemctl reload hids-agent.service
	check "systemctl reload succeeds" test $? -eq 0
	systemctl stop hids-agent.service
	check "systemctl stop succeeds" test "$(systemctl is-active hids-agent.service)" = inactive
else
	skipped "systemctl start, reload and stop" "systemd is not the running init here"
	/usr/sbin/hids-agent --stdout >/dev/null 2>"$tmp/run.err" &
	pid=$!
	for _ in $(seq 100); do grep -q ready "$tmp/run.err" 2>/dev/null && break; sleep 0.1; done
	check "the installed agent starts as root and reports ready" grep -q ready "$tmp/run.err"
	kill -TERM "$pid"
	wait "$pid"
	check "the installed agent exits 0 on SIGTERM" test $? -eq 0
	# As the unit runs it: the unit's user, command line and capabilities.
	# tests/live/test_sandbox.sh adds the unit's /proc and seccomp settings.
	caps=$(sed -n 's/^AmbientCapabilities=//p' "$unit" | tr 'A-Z ' 'a-z,' | sed 's/cap_/+/g')
	cmd=$(sed -n 's/^ExecStart=//p' "$unit")
	setpriv --reuid="$user" --regid="$user" --init-groups --inh-caps=-all,"$caps" \
	    --ambient-caps="$caps" --bounding-set=-all,"$caps" --no-new-privs \
	    $cmd --stdout >/dev/null 2>"$tmp/run.err" &
	pid=$!
	for _ in $(seq 100); do grep -q ready "$tmp/run.err" 2>/dev/null && break; sleep 0.1; done
	check "as $user with the unit's capabilities, it reads its config and reports ready" \
	    grep -q ready "$tmp/run.err" || sed 's/^/# /' "$tmp/run.err"
	check "  ... with no warning or error" bash -c "! grep -Eq ': (warning|error):' '$tmp/run.err'" ||
	    sed 's/^/# /' "$tmp/run.err"
	capeff=$(sed -n 's/^CapEff:\t//p' "/proc/$pid/status" 2>/dev/null)
	check "  ... keeping CapEff 0000000000881000 (got ${capeff:-none})" test "$capeff" = 0000000000881000
	kill -TERM "$pid"
	wait "$pid"
	check "  ... and exits 0 on SIGTERM" test $? -eq 0
fi
# ExecReload's check, as the unit's user; any other user may not read the config.
setpriv --reuid="$user" --regid="$user" --init-groups --inh-caps=-all \
    /usr/sbin/hids-agent --check-config -c /etc/hids-agent/hids-agent.conf >/dev/null 2>"$tmp/cc.err"
check "$user may check the config (ExecReload)" test $? -eq 0 || sed 's/^/# /' "$tmp/cc.err"
setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
    /usr/sbin/hids-agent --check-config >/dev/null 2>"$tmp/cc.err"
check "another user gets exit 1, not the built-in defaults" test $? -eq 1
check "  ... with one line saying it cannot open the config" \
    test "$(wc -l <"$tmp/cc.err")" -eq 1 -a "$(grep -c '^/etc/hids-agent/hids-agent.conf: cannot open: Permission denied$' "$tmp/cc.err")" -eq 1 ||
    sed 's/^/# /' "$tmp/cc.err"

# Upgrade in place (same version again): the admin's edit of the conffile
# stays; a spool left by a version that ran as root is handed to the user;
# a mode the admin pinned with dpkg-statoverride stays.
echo "# edited by test_package" >>/etc/hids-agent/hids-agent.conf
mkdir -p /var/lib/hids-agent/old
echo segment >/var/lib/hids-agent/old/seg
chown -R root:root /var/lib/hids-agent
chmod 600 /var/lib/hids-agent/old/seg
dpkg-statoverride --add root "$user" 0710 /etc/hids-agent
chmod 0710 /etc/hids-agent
dpkg -i "$deb" >"$tmp/dpkg.log" 2>&1
check "reinstalling over itself succeeds" test $? -eq 0 || tail -n 20 "$tmp/dpkg.log"
dpkg-statoverride --remove /etc/hids-agent
check "the admin's edit of the config survives" grep -q "edited by test_package" /etc/hids-agent/hids-agent.conf
check "  ... and stays 640 root:hids-agent" test "$(perms /etc/hids-agent/hids-agent.conf)" = 640:root:$user
check "a root-owned spool from an older version is handed to $user" \
    test "$(perms /var/lib/hids-agent):$(perms /var/lib/hids-agent/old/seg)" = "750:$user:$user:600:$user:$user"
check "a dpkg-statoverride on /etc/hids-agent is respected" test "$(perms /etc/hids-agent)" = 710:root:$user
check "the user is reused, not created again" test "$(getent passwd "$user")" = "$pw"

# Remove keeps the config; purge takes everything.
apt-get remove -y -qq hids-agent >"$tmp/apt.log" 2>&1
check "apt-get remove succeeds" test $? -eq 0
check "remove takes the binary" test ! -e /usr/sbin/hids-agent
check "remove keeps the config" test -f /etc/hids-agent/hids-agent.conf
apt-get purge -y -qq hids-agent >"$tmp/apt.log" 2>&1
check "apt-get purge succeeds" test $? -eq 0
check "purge leaves no package record" bash -c "! dpkg-query -W hids-agent >/dev/null 2>&1 || test \"\$(dpkg-query -W -f='\${db:Status-Abbrev}' hids-agent)\" = 'un '"
for p in /etc/hids-agent /var/lib/hids-agent /lib/systemd/system/hids-agent.service \
    /etc/systemd/system/multi-user.target.wants/hids-agent.service /usr/share/doc/hids-agent \
    /usr/lib/sysusers.d/hids-agent.conf; do
	check "purge removes $p" test ! -e "$p"
done
check "purge keeps the $user user and group (Debian practice; docs/operations.md)" \
    test "$(getent passwd "$user")" = "$pw" -a -n "$(getent group "$user")"
installed_by_us=false
summary
