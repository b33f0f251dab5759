#!/usr/bin/env bash
# Trains the CPU architectures of SimVP, the DCGAN and the VAE (their cpu_small networks, small enough to ship) on
# one NVIDIA GPU with Keras 3 on JAX, bfloat16 mixed precision, GPU batch sizes (the gpu_cpu_small presets) and Moving
# MNIST rendered on the device (tfvidgen.data.DeviceMovingMNIST): 3.5 + 2 + 2 minutes of training, inside 10 GPU
# minutes with start-up and compilation. For a machine with Python 3.12 and JAX with CUDA but no TensorFlow and no
# network.
#
#   tools/train_on_gpu.sh [--smoke] [--wheels DIR] [--out DIR] [--minutes SIMVP,DCGAN,VAE] [--families LIST]
#
# --families: a comma-separated subset of simvp,dcgan,vae (the default, in that order), or convlstm, which trains
# OpenSTL's ConvLSTM-S (openstl_convlstm_s) for the --minutes it is given as a 4th value (default 4).
# Needs, beside JAX: keras (3.15.1), namex and optree as wheels in --wheels (default .whl in the checkout; see
# docs/training.md, "Training on a GPU with JAX", for the download command), and absl-py, h5py, ml-dtypes, numpy,
# packaging, rich and opencv-python-headless (most JAX images have them). The wheels are installed into a private
# directory, never into the system. Writes one run directory per family under --out (config.json, metrics.csv,
# samples/, checkpoints/, model.keras, summary.json) and OUT/gpu_run.txt (devices, commands, wall times); evaluate and
# export them where TensorFlow is, with the CPU references' commands:
#   tfvidgen evaluate --model OUT/simvp/model.keras ...; tfvidgen export --model OUT/simvp/model.keras --out DIR
# --smoke runs the tiny presets for one short epoch each on the CPU (JAX_PLATFORMS=cpu): the dry run CI tests.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
smoke=0
wheels="$repo/.whl"
out="$repo/runs/gpu"
minutes="3.5,2,2,4"
families="simvp,dcgan,vae"
while [ $# -gt 0 ]; do
  case "$1" in
    --smoke) smoke=1 ;;
    --wheels) wheels="$2"; shift ;;
    --out) out="$2"; shift ;;
    --minutes) minutes="$2"; shift ;;
    --families) families="$2"; shift ;;
    -h|--help) sed -n '2,21p' "$0"; exit 0 ;;
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

IFS=, read -r minutes_simvp minutes_dcgan minutes_vae minutes_convlstm <<<"$minutes"
all_families=(simvp dcgan vae convlstm)
if [ "$smoke" = 1 ]; then
  export JAX_PLATFORMS=cpu
  presets=(tiny tiny tiny tiny)
  common=(--epochs 1 --steps-per-epoch 2 --validation-clips 4 --mixed-precision bfloat16)
  limits=("" "" "" "")
else
  presets=(gpu_cpu_small gpu_cpu_small gpu_cpu_small openstl_convlstm_s)
  common=(--epochs 1000 --steps-per-epoch 200 --validation-clips 64 --mixed-precision bfloat16)
  limits=("$minutes_simvp" "$minutes_dcgan" "$minutes_vae" "${minutes_convlstm:-4}")
fi
for family in ${families//,/ }; do
  case " ${all_families[*]} " in *" $family "*) ;; *)
    echo "train_on_gpu.sh: unknown family $family in --families (simvp, dcgan, vae, convlstm)" >&2; exit 2 ;;
  esac
done
mkdir -p "$out"
log="$out/gpu_run.txt"
"$python" -c "import jax, keras; print('JAX', jax.__version__, 'Keras', keras.__version__, 'devices', jax.devices())" \
  | tee "$log"
if command -v nvidia-smi >/dev/null 2>&1; then
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader >>"$log" 2>&1 || true
fi

for index in 0 1 2 3; do
  family="${all_families[$index]}"
  case ",$families," in *",$family,"*) ;; *) continue ;; esac
  limit=()
  if [ -n "${limits[$index]}" ]; then limit=(--time-limit-minutes "${limits[$index]}"); fi
  command=("$python" -m tfvidgen.cli.main train "$family" --backend jax --preset "${presets[$index]}"
    --out "$out/$family" --overwrite --verbose 2 "${common[@]}" "${limit[@]}")
  echo "command: ${command[*]}" >>"$log"
  start=$(date +%s)
  "${command[@]}"
  echo "$family: $(( $(date +%s) - start )) s wall" | tee -a "$log"
done
echo "train_on_gpu.sh: run directories in $out"
