#!/usr/bin/env bash
# Brings up a single-node Slurm cluster on this machine for the launcher's tests: munge (the
# authentication daemon Slurm's auth/munge plugin talks to), slurmctld (the controller) and
# slurmd (the node daemon), all from Debian's packages (Slurm 22.05 on Debian 12). It needs
# root, and neither systemd nor cgroups: every daemon is started directly and daemonizes itself.
#
# Steps: install slurm-wlm and munge unless their daemons and sbatch are already on PATH;
# create the munge key and directories and start munged unless `munge -n | unmunge` already
# works; write /etc/slurm/slurm.conf from what `slurmd -C` reports about this machine; start
# slurmctld and slurmd unless they already run with that configuration (if the configuration
# changed, they are restarted); wait until the node is idle; print a one-line summary.
# Running it again is quick and leaves the one set of daemons it started.
set -euo pipefail

# slurmctld, slurmd and munged live in /usr/sbin, which a non-login root shell may not list.
export PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"

conf=/etc/slurm/slurm.conf
spool=/var/spool/slurm
logs=/var/log/slurm
packages=(slurm-wlm munge)
timeout=60

fail() {
    echo "setup-slurm: $*" >&2
    exit 1
}

say() {
    echo "setup-slurm: $*"
}

[[ $(id -u) == 0 ]] || fail "must run as root (it installs packages and starts system daemons)"

# --- 1. packages ----------------------------------------------------------------------------
installed=1
for tool in slurmctld slurmd munged sbatch; do
    command -v "$tool" >/dev/null || installed=0
done
if [[ $installed == 0 ]]; then
    say "installing ${packages[*]} with apt-get"
    # Debian's maintainer scripts would try to start munge and the Slurm daemons (and fail, with
    # no slurm.conf yet); a policy-rc.d that answers 101 stops them, and this script starts the
    # daemons itself below. An existing policy-rc.d is left as it is.
    policy=/usr/sbin/policy-rc.d
    made_policy=0
    if [[ ! -e $policy ]]; then
        printf '#!/bin/sh\nexit 101\n' >"$policy"
        chmod 755 "$policy"
        made_policy=1
        trap 'rm -f "$policy"' EXIT
    fi
    export DEBIAN_FRONTEND=noninteractive
    if ! apt-get update -q || ! apt-get install -y -q --no-install-recommends "${packages[@]}"; then
        fail "could not install the Debian packages ${packages[*]} (apt-get update && apt-get install ${packages[*]} failed; see above)"
    fi
    for tool in slurmctld slurmd munged sbatch; do
        command -v "$tool" >/dev/null ||
            fail "$tool is still not on PATH after installing ${packages[*]}"
    done
    if [[ $made_policy == 1 ]]; then
        rm -f "$policy"
        trap - EXIT
    fi
fi

# --- 2. munge -------------------------------------------------------------------------------
if munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
    say "munged is already running"
else
    # Debian's package creates the munge user and runs munged as that user; munged insists that
    # its key and directories belong to the user it runs as and are not writable by others.
    if id munge >/dev/null 2>&1; then
        owner=munge
    else
        owner=root
    fi
    install -d -o "$owner" -g "$owner" -m 0700 /etc/munge /var/lib/munge /var/log/munge
    # Clients reach munged through a socket in /run/munge, so that directory is world-readable.
    # /run is a tmpfs that systemd's tmpfiles would normally populate; here nothing does.
    install -d -o "$owner" -g "$owner" -m 0755 /run/munge
    key=/etc/munge/munge.key
    if [[ ! -s $key ]]; then
        say "creating $key"
        if command -v mungekey >/dev/null; then
            mungekey --create --keyfile="$key"
        else
            dd if=/dev/urandom of="$key" bs=1024 count=1 status=none
        fi
    fi
    chown "$owner:$owner" "$key"
    chmod 0400 "$key"
    say "starting munged as $owner"
    if [[ $owner == root ]]; then
        munged
    else
        runuser -u "$owner" -- munged
    fi
    for ((i = 0; ; i++)); do
        munge -n 2>/dev/null | unmunge >/dev/null 2>&1 && break
        ((i < timeout * 2)) || fail "munged does not answer (munge -n | unmunge fails); see /var/log/munge/munged.log"
        sleep 0.5
    done
fi

# --- 3. slurm.conf --------------------------------------------------------------------------
# `slurmd -C` prints this machine's node line, e.g. "NodeName=vm CPUs=2 Boards=1
# SocketsPerBoard=1 CoresPerSocket=2 ThreadsPerCore=1 RealMemory=24105", then "UpTime=...".
declare -A hw=()
read -r -a words < <(slurmd -C 2>/dev/null | grep -m1 '^NodeName=') ||
    fail "slurmd -C printed no NodeName= line"
for word in "${words[@]}"; do
    hw[${word%%=*}]=${word#*=}
done
for field in NodeName CPUs CoresPerSocket ThreadsPerCore RealMemory; do
    [[ -n ${hw[$field]:-} ]] || fail "slurmd -C reported no $field: ${words[*]}"
done
node=${hw[NodeName]}
cpus=${hw[CPUs]}
sockets=${hw[Sockets]:-$((${hw[Boards]:-1} * ${hw[SocketsPerBoard]:-1}))}
memory=${hw[RealMemory]}
host=$(hostname -s)

mkdir -p /etc/slurm "$spool/ctld" "$spool/d" "$logs"
new=$(mktemp)
cat >"$new" <<EOF
# Written by scripts/setup-slurm.sh: a single-node Slurm 22.05 cluster for the launcher's tests.
# Only lines that differ from Slurm's defaults, or that Debian's build needs spelled out, are here.
ClusterName=runner
SlurmctldHost=$host
# Both daemons run as root: there is no slurm user to own the state and log files, and slurmd
# must be root anyway to start jobs as their submitting users.
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
# No cgroups here (and no systemd to delegate them): track a job's processes through their
# parent ids, and bind no tasks to CPUs. So nothing enforces --mem or --cpus-per-task at run
# time; they only decide what the scheduler lets run side by side.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
# Cores and memory are the consumable resources, so two 1-CPU jobs share the node. With memory
# consumable, a job that asks for no memory would otherwise be given all of the node's, and the
# node would run one job at a time: DefMemPerCPU gives it an equal share per CPU instead.
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=$((memory / cpus))
SchedulerType=sched/backfill
# The largest array the tests submit is 0-1000; Slurm's own default is 1001 too, spelled out so
# that the tests can rely on it.
MaxArraySize=1001
StateSaveLocation=$spool/ctld
SlurmdSpoolDir=$spool/d
SlurmctldLogFile=$logs/slurmctld.log
SlurmdLogFile=$logs/slurmd.log
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
# A node that was down (say slurmd restarted) comes back by itself once slurmd registers.
ReturnToService=2
# Messages between the daemons on one machine are fast; a dead slurmd is noticed after a
# minute rather than Slurm's default five.
MessageTimeout=10
SlurmdTimeout=60
# Debian's default, /bin/mail, is not installed, and slurmctld logs an error at every start.
MailProg=/bin/true

NodeName=$node CPUs=$cpus Sockets=$sockets CoresPerSocket=${hw[CoresPerSocket]} ThreadsPerCore=${hw[ThreadsPerCore]} RealMemory=$memory State=UNKNOWN
PartitionName=debug Nodes=$node Default=YES MaxTime=INFINITE State=UP
EOF
changed=0
if ! cmp -s "$new" "$conf"; then
    say "writing $conf"
    install -m 0644 "$new" "$conf"
    changed=1
fi
rm -f "$new"

# --- 4. daemons -----------------------------------------------------------------------------
# The pids of the live processes named $1. A daemon that exited can linger as a zombie until
# init reaps it (the init of a container or microVM may be slow to), so zombies do not count.
pids_of() {
    local pid
    for pid in $(pgrep -x "$1"); do
        [[ $(ps -o stat= -p "$pid" 2>/dev/null) == Z* ]] || echo "$pid"
    done
}

running() {
    [[ -n $(pids_of "$1") ]]
}

stop() {
    local name=$1 pids
    pids=$(pids_of "$name")
    [[ -n $pids ]] || return 0
    say "stopping $name (pid $(echo $pids)) to pick up the new $conf"
    kill $pids
    for ((i = 0; i < timeout * 2; i++)); do
        running "$name" || return 0
        sleep 0.5
    done
    fail "$name (pid $(echo $pids)) did not exit within ${timeout}s"
}

if [[ $changed == 1 ]]; then
    stop slurmd
    stop slurmctld
fi

ctld_up() {
    scontrol ping 2>/dev/null | grep -q 'is UP'
}

if running slurmctld; then
    say "slurmctld is already running"
else
    say "starting slurmctld"
    slurmctld
fi
for ((i = 0; ; i++)); do
    ctld_up && break
    if ((i >= timeout * 2)); then
        tail -n 20 "$logs/slurmctld.log" >&2 || true
        fail "slurmctld does not answer scontrol ping after ${timeout}s; see $logs/slurmctld.log"
    fi
    sleep 0.5
done

start_slurmd() {
    say "starting slurmd"
    slurmd
}

if running slurmd; then
    say "slurmd is already running"
else
    start_slurmd
fi

# The node starts as unknown, then turns idle once slurmd registers. sinfo marks a node whose
# slurmd does not answer with a trailing '*' (idle*, down*): if no slurmd runs by then (one
# that was shutting down a moment ago looked alive above), one is started. A node that is down
# or drained (say by an earlier, broken configuration) is resumed, every 5 seconds at most.
state=
for ((i = 0; ; i++)); do
    state=$(sinfo -h -n "$node" -o %T 2>/dev/null | head -n1)
    case $state in
        idle | mixed | allocated | completing) break ;;
        *'*' | unknown* | down*) running slurmd || start_slurmd ;;
    esac
    case ${state%'*'} in
        down | drained | draining | drain | fail | failing)
            if ((i % 10 == 0)); then
                say "node $node is $state; resuming it"
                scontrol update nodename="$node" state=resume || true
            fi
            ;;
    esac
    if ((i >= timeout * 2)); then
        tail -n 20 "$logs/slurmd.log" >&2 || true
        scontrol show node "$node" >&2 || true
        fail "node $node is still '${state:-unknown}' after ${timeout}s; see $logs/slurmd.log"
    fi
    sleep 0.5
done

array=$(scontrol show config | awk '$1 == "MaxArraySize" {print $3}')
say "ready: node $node ($state), $cpus CPUs, ${memory} MB, partition debug, MaxArraySize=$array"
