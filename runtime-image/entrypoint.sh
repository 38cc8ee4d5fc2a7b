#!/usr/bin/env bash
# Entrypoint of the Ventus runtime image: one disposable browser pod.
#
# Runs the pod agent (runtime-image/agent/), which starts the pod's Xvfb display (headful pods),
# Chromium, and the CDP relay on AGENT_HOST:AGENT_PORT (0.0.0.0:9222: the pod IP), with /healthz and
# /json/version for readiness, and the live view's VNC WebSocket at /vnc (x11vnc, headful pods). Once the agent is ready, a window manager joins its display.
# SIGTERM/SIGINT: the agent stops Chromium and Xvfb and deletes the user-data-dir, then the window
# manager stops and this script exits 0. If the browser dies on its own, the agent exits 1 and so
# does this script: pods are disposable, Kubernetes sees the container fail.
#
# Runs outside a container too (the tests do): every path is an environment variable.
#   VENTUS_AGENT_SECRET  the pod's secret (required): the agent answers no request without it in the
#                    x-ventus-agent-secret header. Handed to the agent only: the window manager does not
#                    get it, and the agent keeps it out of Chromium's environment.
#   CHROMIUM_SANDBOX Chromium's own sandbox (the image sets false: the container is the boundary)
#   AGENT_CMD        command that starts the agent, split on whitespace (default: node /opt/ventus/agent.mjs)
#   AGENT_HOST       listen address of the agent (default 0.0.0.0)
#   AGENT_PORT       listen port of the agent (default 9222)
#   USER_DATA_DIR    Chromium's profile, deleted at exit (default /data/user-data: an emptyDir)
#   HEADLESS         true or false (default false: a headful Chromium on Xvfb)
#   WINDOW_MANAGER   command of the window manager for headful pods (default openbox; empty: none)
# The agent reads the rest of its settings (POD_ID, CHROMIUM_PATH, SCRATCH_DIR, FFMPEG_PATH,
# VENTUS_EGRESS_ALLOW, VENTUS_EGRESS_ALLOW_PRIVATE) itself.
# Writes only under USER_DATA_DIR's parent and TMPDIR: a read-only root filesystem is fine.
set -euo pipefail

AGENT_CMD="${AGENT_CMD:-node /opt/ventus/agent.mjs}"
export AGENT_HOST="${AGENT_HOST:-0.0.0.0}"
export AGENT_PORT="${AGENT_PORT:-9222}"
export USER_DATA_DIR="${USER_DATA_DIR:-/data/user-data}"
export HEADLESS="${HEADLESS:-false}"
# `-` not `:-`: an explicitly empty WINDOW_MANAGER means no window manager.
WINDOW_MANAGER="${WINDOW_MANAGER-openbox}"

log() { printf 'entrypoint: %s\n' "$*" >&2; }

agent_pid=''
wm_pid=''
stopping=0

on_signal() {
  stopping=1
  if [[ -n $agent_pid ]]; then kill -TERM "$agent_pid" 2>/dev/null || true; fi
}
trap on_signal TERM INT

# The agent starts Xvfb itself (Xvfb -displayfd picks a free display, and the agent treats Xvfb's
# death as the pod's) and hands its display to Chromium as DISPLAY: read it from the environment of
# the agent's child that is not Xvfb. Prints ":<n>", or fails when there is none.
agent_display() {
  local file stat ppid var
  for file in /proc/[0-9]*/stat; do
    { read -r stat <"$file"; } 2>/dev/null || continue
    # pid (comm) state ppid ...: comm may hold spaces and parentheses, so cut after the last ") ".
    read -r _ ppid _ <<<"${stat##*) }"
    [[ $ppid == "$agent_pid" && $stat != *' (Xvfb) '* ]] || continue
    while IFS= read -r -d '' var; do
      if [[ $var == DISPLAY=* ]]; then
        printf '%s\n' "${var#DISPLAY=}"
        return 0
      fi
    done 2>/dev/null <"${file%/stat}/environ"
  done
  return 1
}

start_window_manager() {
  local display wm
  read -r -a wm <<<"$WINDOW_MANAGER"
  if ! command -v "${wm[0]}" >/dev/null 2>&1; then
    log "window manager ${wm[0]} not found; the browser runs without one"
    return 0
  fi
  if ! display=$(agent_display); then
    log "found no display of the agent; the browser runs without a window manager"
    return 0
  fi
  # The window manager's output is noise for the pod's logs; stdout must stay the agent's ready line.
  DISPLAY=$display "${wm[@]}" >/dev/null 2>&1 &
  wm_pid=$!
  log "window manager ${wm[0]} on display $display (pid $wm_pid)"
}

stop_window_manager() {
  [[ -n $wm_pid ]] || return 0
  kill -TERM "$wm_pid" 2>/dev/null || true
  wait "$wm_pid" 2>/dev/null || true
}

# A signal that came before anything started: nothing to stop.
if ((stopping)); then exit 0; fi

mkdir -p "$(dirname "$USER_DATA_DIR")"
read -r -a agent_cmd <<<"$AGENT_CMD"
# A coprocess, to read the agent's one ready line ({"ready":true,"port":..,"pid":..}) from its stdout;
# its stderr (JSON logs) goes straight to ours. `exec`: the coprocess's pid is the agent's.
coproc AGENT { exec "${agent_cmd[@]}"; }
agent_pid=$AGENT_PID
# Nothing this script starts after the agent (the window manager) gets the secret.
unset VENTUS_AGENT_SECRET
# Bash unsets AGENT once the coprocess exits: keep a descriptor of our own.
if [[ -n ${AGENT[0]:-} ]]; then exec {agent_out}<&"${AGENT[0]}"; else exec {agent_out}</dev/null; fi
if ((stopping)); then kill -TERM "$agent_pid" 2>/dev/null || true; fi

ready=''
read -r ready <&"$agent_out" || true
# The agent writes nothing after its ready line; close before the window manager could inherit it.
exec {agent_out}<&-
if [[ -n $ready ]]; then
  # Pass the line on: whoever runs the container (or a test) learns the port and the agent's pid.
  printf '%s\n' "$ready"
  if [[ ${HEADLESS,,} =~ ^(false|0|no)$ && -n $WINDOW_MANAGER ]] && ((!stopping)); then
    start_window_manager
  fi
fi

# `wait` returns early (status > 128) when a trapped signal arrives: wait again until the agent is
# gone, then once more for its status (bash keeps the status of a reaped child).
while kill -0 "$agent_pid" 2>/dev/null; do
  wait "$agent_pid" || true
done
if wait "$agent_pid"; then status=0; else status=$?; fi
stop_window_manager

if ((stopping)); then
  # 143: the agent got SIGTERM before it installed its handler, i.e. while Node was still loading.
  if ((status == 0 || status == 143)); then exit 0; fi
  log "agent exited with status $status while stopping"
  exit "$status"
fi
log "agent exited with status $status"
exit "$status"
