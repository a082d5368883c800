#!/usr/bin/env bash
# Compatibility run: for each Airflow version, a fresh venv in .venv-compat/<version> (uv, the shared
# wheel cache), the unit tests and one end-to-end `airflow dags test` of the example DAG against the
# sandbox; then the unit tests of the floor Airflow on its oldest Python (3.10 for this provider) and of
# the latest on 3.13 and its newest, 3.14 (a run is skipped, with a message, if the interpreter is missing).
#
#   tools/test-compat.sh [--install-only] [AIRFLOW_VERSION ...]   (default: every supported version)
#
# Environment: UV (the uv binary), PYTHON (interpreter for the per-version venvs), COMPAT_E2E (pytest
# selection for the e2e step), COMPAT_PYTHONS ("airflow:python" pairs for the extra unit runs).
set -euo pipefail
cd "$(dirname "$0")/.."

SUPPORTED=(3.0.6 3.1.8 3.2.2 3.3.2)
UV=${UV:-.venv/bin/uv}
PYTHON=${PYTHON:-$(command -v python3.11 || command -v python3)}
COMPAT_E2E=${COMPAT_E2E:-tests/e2e/test_lineage.py}
COMPAT_PYTHONS=${COMPAT_PYTHONS:-3.0.6:3.10 3.3.2:3.13 3.3.2:3.14}
ROOT=.venv-compat
INSTALL_ONLY=0
if [[ ${1:-} == --install-only ]]; then INSTALL_ONLY=1; shift; fi
VERSIONS=("$@")
[[ ${#VERSIONS[@]} -gt 0 ]] || VERSIONS=("${SUPPORTED[@]}")

# Pins an Airflow minor needs on top of its own requirements (Airflow's constraint files live on GitHub).
pins_for() {
  case $1 in
    # 3.0's task runner posts JSON without a Content-Type; FastAPI 0.118+ answers 422 (3.1 caps it too).
    # cryptography 51 made MultiFernet a Rust type, and 3.0.6 sets `_fernet.is_encrypted` on it
    # (airflow/models/crypto.py), so no connection with a password can be read; its constraints pin
    # an older cryptography.
    3.0.*) echo "fastapi<0.118 cryptography<51" ;;
    *) echo "" ;;
  esac
}

# Whether `airflow dags test` works on a version. Airflow 3.2.2 starts its in-process execution API
# without waiting for the app's lifespan, so the first task call fails ('State' object has no attribute
# 'svcs_registry'; 3.3 waits for it). No dependency pin changes that, so 3.2 gets unit tests only.
runs_dags() {
  case $1 in
    3.2.*) return 1 ;;
    *) return 0 ;;
  esac
}

# An interpreter for Python $1 on this machine (PATH, uv's managed or found ones, pyenv), or nothing.
find_python() {
  local want=$1 candidate
  for candidate in "$(command -v "python$want" 2>/dev/null || true)" \
                   "$("$UV" python find --no-python-downloads "$want" 2>/dev/null || true)" \
                   "${PYENV_ROOT:-$HOME/.pyenv}"/versions/"$want".*/bin/python"$want"; do
    if [[ -n $candidate && -x $candidate ]] && "$candidate" -c 'import sys' 2>/dev/null; then
      echo "$candidate"
      return 0
    fi
  done
  return 1
}

# Create $ROOT/$name with Airflow $version on interpreter $python; echo its python.
make_venv() {
  local name=$1 version=$2 python=$3 venv="$ROOT/$1" pins
  pins=$(pins_for "$version")
  rm -rf "$venv"
  "$UV" venv --quiet --python "$python" "$venv" >&2
  # shellcheck disable=SC2086  # $pins is a word list
  "$UV" pip install --quiet --python "$venv/bin/python" -e '.[dev]' "apache-airflow==$version" $pins >&2
  echo "$venv/bin/python"
}

# Run pytest in that venv; print "<label>: <summary line>" and remember failures.
declare -a RESULTS=()
FAILED=0
run_pytest() {
  local label=$1 py=$2 log
  shift 2
  log="$ROOT/$label.log"
  echo "--- $label: pytest $*" >&2
  if "$py" -m pytest -q "$@" >"$log" 2>&1; then
    RESULTS+=("PASS  $label: $(tail -n 1 "$log")")
  else
    RESULTS+=("FAIL  $label: $(tail -n 1 "$log")  (log: $log)")
    FAILED=1
    tail -n 40 "$log" >&2
  fi
}

mkdir -p "$ROOT"
for version in "${VERSIONS[@]}"; do
  echo "=== Airflow $version on $("$PYTHON" -c 'import platform; print(platform.python_version())')" >&2
  py=$(make_venv "$version" "$version" "$PYTHON")
  "$py" -c 'import airflow, sys; print("    airflow", airflow.__version__, "python", sys.version.split()[0])' >&2
  [[ $INSTALL_ONLY == 1 ]] && continue
  run_pytest "airflow-$version-unit" "$py" tests/unit
  if runs_dags "$version"; then
    # shellcheck disable=SC2086  # $COMPAT_E2E is a list of test paths
    run_pytest "airflow-$version-e2e" "$py" $COMPAT_E2E
  else
    RESULTS+=("N/A   airflow-$version-e2e: not run, Airflow $version cannot run 'airflow dags test' (see tools/test-compat.sh)")
  fi
done

for pair in $COMPAT_PYTHONS; do
  version=${pair%%:*} pyver=${pair##*:}
  [[ " ${VERSIONS[*]} " == *" $version "* ]] || continue
  if ! interpreter=$(find_python "$pyver"); then
    RESULTS+=("SKIP  airflow-$version-py$pyver-unit: no Python $pyver on this machine (uv python install needs GitHub)")
    continue
  fi
  echo "=== Airflow $version on Python $pyver ($interpreter)" >&2
  py=$(make_venv "$version-py$pyver" "$version" "$interpreter")
  [[ $INSTALL_ONLY == 1 ]] && continue
  run_pytest "airflow-$version-py$pyver-unit" "$py" tests/unit
done

echo
echo "Compatibility summary"
for line in "${RESULTS[@]}"; do echo "  $line"; done
exit $FAILED
