#!/usr/bin/env bash
# The whole recipe from nothing in one call on a lent GPU machine (the `run` tool): the tokenizer,
# the encoding of every frame and the transformer train there; the held-out eval and the ONNX export
# run here afterwards, with Debian's torch 1.13 (the machine's newer torch exports through another
# path, untested with this runtime). Not yet run on a GPU: none has been lent to this task.
#
# Carry (about 23 MB; the call takes 64 MiB): DATA/index.json and DATA/frames.bin.xz, made here by
#   npx tsx scripts/export-dataset.ts --out models/.cache/data128c
#   mkdir -p gpu && cp models/.cache/data128c/index.json gpu/ && xz -T1 -6 -c models/.cache/data128c/frames.bin > gpu/frames.bin.xz
# then run (carry ["gpu"]):
#   GPT_STEPS=200 bash models/gpu-train.sh      # first call: a short run that prints s/step
#   GPT_STEPS=N   bash models/gpu-train.sh      # sized from it to fit the device time left
# Back under $OUT/run: vq.pt, gpt.pt (or, cut short, gpt-last.pt + gpt-last.json), codes.npy,
# vq-metrics.json, and $OUT/metrics.json, $OUT/train.log: 7 files, under the 8 a call returns.
# Then here:
#   mkdir -p models/.cache/gpu scratch/gpu && cp <files_at>/run/* models/.cache/gpu/ && cp <files_at>/metrics.json scratch/gpu/
#   cd models && /usr/bin/python3 train.py --data .cache/data128c --codes .cache/gpu/codes.npy --cache .cache/gpu --out ../scratch/gpu --stage eval
#   npx keystep bench --model scratch/gpu        # and rollouts with --model scratch/gpu
# Every setting below can be overridden from the environment; the batches are 4x the CPU recipe's,
# since a step on the GPU costs about the same for 14 or 56 sequences.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${OUT:?set OUT (the run tool sets it)}"
DATA=${DATA:-gpu}
PY=${PY:-python3}
DEVICE=${DEVICE:-cuda}
THREADS=${THREADS:-8}
SEED=${SEED:-1234}
VQ_STEPS=${VQ_STEPS:-1400}
VQ_BATCH=${VQ_BATCH:-128}
VQDEC_STEPS=${VQDEC_STEPS:-600}
GPT_STEPS=${GPT_STEPS:-4000}
GPT_BATCH=${GPT_BATCH:-16,20,20}
GPT_LR=${GPT_LR:-1.5e-3}
GPT_FOCUS=${GPT_FOCUS:-pick up the cup=4;pick up the fork=4;stand=3;pick up=2}
SAVE_EVERY=${SAVE_EVERY:-250}
mkdir -p "$OUT/run"
# Stage all with --train-only: VQ, codes, decoder fine-tune, transformer, checkpoints into $OUT/run.
"$PY" models/train.py --data "$DATA" --out "$OUT" --cache "$OUT/run" --stage all --train-only --device "$DEVICE" --threads "$THREADS" \
  --seed "$SEED" --vq-steps "$VQ_STEPS" --vq-batch "$VQ_BATCH" --vqdec-steps "$VQDEC_STEPS" \
  --gpt-steps "$GPT_STEPS" --gpt-batch "$GPT_BATCH" --gpt-lr "$GPT_LR" --gpt-noise 0.5,24 --gpt-changed-weight 3 --gpt-cond \
  --gpt-focus "$GPT_FOCUS" --gpt-save-every "$SAVE_EVERY" --gpt-save-last 2>&1 | tee "$OUT/train.log"
# The run finished: its gpt.pt supersedes the snapshot, which would be an eighth file.
rm -f "$OUT/run/gpt-last.pt" "$OUT/run/gpt-last.json"
