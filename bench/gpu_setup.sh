# Sourced by bench/gpu_check.sh and bench/gpu_paper.sh (OUT set): log(), the machine's GPU, and the
# package installed (kornia from wheels in .whl/ when the machine cannot reach an index; the source
# tree on PYTHONPATH when the editable install fails).
log() { echo "[$(date +%T)] $*" | tee -a "$OUT/log.txt"; }

log "machine"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv 2>&1 | tee -a "$OUT/log.txt"
if ! python3 -c "import kornia" 2>/dev/null && ls .whl/*.whl > /dev/null 2>&1; then
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target /tmp/site .whl/*.whl 2>&1 | tail -2
    export PYTHONPATH=/tmp/site${PYTHONPATH:+:$PYTHONPATH}
fi
python3 -m pip install -q --no-index --no-deps --no-build-isolation -e . > /tmp/install.txt 2>&1 || {
    log "editable install failed ($(tail -1 /tmp/install.txt)); using the source tree"
    ln -sfn ../cli infogan_kit/cli
    export PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH}
}
