#!/usr/bin/env bash
# Runs the whole training recipe from nothing on a CUDA host, from a few carried files: the VQ
# tokenizer, the encoding of every frame, the decoder fine-tune and the transformer train there, at 4x
# the CPU recipe's batches (a step on the GPU costs about the same for 14 or 56 sequences). The held-out
# eval and the ONNX export run afterwards on a CPU host with Debian's torch 1.13, whose exporter made
# every graph the runtime is tested on (torch 2.9 and later export through dynamo by default).
# The CUDA path has only been smoke-tested on the CPU (DEVICE=cpu, a few steps per stage).
#
# Inputs, under $DATA (default gpu/, about 23 MB), made on a host with Node:
#   npx tsx scripts/export-dataset.ts --out models/.cache/data128c
#   mkdir -p gpu && cp models/.cache/data128c/index.json gpu/ && xz -T1 -6 -c models/.cache/data128c/frames.bin > gpu/frames.bin.xz
# Run from the repository root, with OUT set to an empty directory for the results:
#   OUT=/tmp/out GPT_STEPS=200 bash models/gpu-train.sh   # a short run that prints seconds per step
#   OUT=/tmp/out GPT_STEPS=N   bash models/gpu-train.sh   # N sized from it to fit the time available
# Results: $OUT/run/ holds vq.pt, gpt.pt (or, for a run cut short, gpt-last.pt + gpt-last.json),
# codes.npy and vq-metrics.json; $OUT/metrics.json and $OUT/train.log sit beside it.
# Then, on the CPU host, with the results copied to RESULTS:
#   mkdir -p models/.cache/gpu scratch/gpu && cp RESULTS/run/* models/.cache/gpu/ && cp RESULTS/metrics.json scratch/gpu/
#   cd models && /usr/bin/python3 train.py --data .cache/data128c --codes .cache/gpu/codes.npy --cache .cache/gpu --out ../scratch/gpu --stage eval
#   npx keystep bench --model scratch/gpu        # and rollouts with --model scratch/gpu
# Every setting below can be overridden from the environment.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${OUT:?set OUT to an empty directory for the results}"
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
# The run finished: its gpt.pt supersedes the snapshot.
rm -f "$OUT/run/gpt-last.pt" "$OUT/run/gpt-last.json"
