#!/usr/bin/env bash
# Trains the GPU presets of tfvidgen's three families with Keras 3 on JAX, bfloat16 mixed precision, on an NVIDIA
# GPU machine that has Python 3.12 and JAX with CUDA but no TensorFlow and no network.
#
#   tools/train_on_gpu.sh [--smoke] [--wheels DIR] [--out DIR] [--minutes CONVLSTM,DCGAN,VAE] [--families LIST]
#
# Needs, beside JAX: keras (3.15.1), namex and optree as wheels in --wheels (default .whl in the checkout; see
# docs/training.md, "Training on a GPU with JAX", for the download command), and absl-py, h5py, ml-dtypes, numpy,
# packaging, rich and opencv-python-headless (most JAX images have them). The wheels are installed into a private
# directory, never into the system. Writes one run directory per family under --out (config.json, metrics.csv,
# samples/, checkpoints/, model.keras, summary.json); export the models where TensorFlow is:
#   tfvidgen export --model OUT/convlstm/model.keras --out saved_models/convlstm_gpu
# --smoke runs the tiny presets for one short epoch each on the CPU (JAX_PLATFORMS=cpu): the dry run CI tests.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
smoke=0
wheels="$repo/.whl"
out="$repo/runs/gpu"
minutes="4,2,2"
families="convlstm,dcgan,vae"
while [ $# -gt 0 ]; do
  case "$1" in
    --smoke) smoke=1 ;;
    --wheels) wheels="$2"; shift ;;
    --out) out="$2"; shift ;;
    --minutes) minutes="$2"; shift ;;
    --families) families="$2"; shift ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *) echo "train_on_gpu.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
python="${PYTHON:-python3}"
export KERAS_BACKEND=jax PYTHONUNBUFFERED=1

if ! "$python" -c "import keras" 2>/dev/null; then
  if ! ls "$wheels"/keras-*.whl >/dev/null 2>&1; then
    echo "train_on_gpu.sh: keras is not installed and no keras wheel is in $wheels (see --help)" >&2
    exit 1
  fi
  site="${TMPDIR:-/tmp}/tfvidgen-site"
  "$python" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target "$site" \
    "$wheels"/*.whl
  export PYTHONPATH="$site${PYTHONPATH:+:$PYTHONPATH}"
fi
export PYTHONPATH="$repo${PYTHONPATH:+:$PYTHONPATH}"

IFS=, read -r minutes_convlstm minutes_dcgan minutes_vae <<<"$minutes"
if [ "$smoke" = 1 ]; then
  export JAX_PLATFORMS=cpu
  presets=(tiny tiny tiny)
  common=(--epochs 1 --steps-per-epoch 2 --validation-clips 4)
  limits=("" "" "")
else
  presets=(openstl_convlstm_s gpu_moving_mnist gpu_moving_mnist)
  common=(--epochs 1000 --steps-per-epoch 200 --validation-clips 64 --mixed-precision bfloat16)
  limits=("$minutes_convlstm" "$minutes_dcgan" "$minutes_vae")
fi
"$python" -c "import jax, keras; print('JAX', jax.__version__, 'Keras', keras.__version__, 'devices', jax.devices())"

all_families=(convlstm dcgan vae)
for index in 0 1 2; do
  family="${all_families[$index]}"
  case ",$families," in *",$family,"*) ;; *) continue ;; esac
  limit=()
  if [ -n "${limits[$index]}" ]; then limit=(--time-limit-minutes "${limits[$index]}"); fi
  "$python" -m tfvidgen.cli.main train "$family" --backend jax --preset "${presets[$index]}" \
    --out "$out/$family" --overwrite --verbose 2 "${common[@]}" "${limit[@]}"
done
echo "train_on_gpu.sh: run directories in $out"
