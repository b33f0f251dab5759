"""Video data for tfvidgen: every source yields float32 clips (frames, height, width, channels) in [0, 1]."""

from tfvidgen.data.clip_batches import ClipBatches
from tfvidgen.data.clip_batches import numpy_clips
from tfvidgen.data.device_moving_mnist import DeviceMovingMNIST
from tfvidgen.data.digits import glyph_digits
from tfvidgen.data.digits import mnist_digits
from tfvidgen.data.moving_mnist import generate_moving_digits
from tfvidgen.data.moving_mnist import moving_mnist
from tfvidgen.data.pipelines import LABELLED_SOURCES
from tfvidgen.data.pipelines import batch_dataset
from tfvidgen.data.pipelines import describe_source
from tfvidgen.data.pipelines import has_labels
from tfvidgen.data.pipelines import interpolation_triplets
from tfvidgen.data.pipelines import load_clips
from tfvidgen.data.pipelines import prediction_pairs
from tfvidgen.data.tfds_videos import TFDS_VIDEO_FEATURES
from tfvidgen.data.tfds_videos import tfds_clips
from tfvidgen.data.tfrecords import read_tfrecords
from tfvidgen.data.tfrecords import write_tfrecords
from tfvidgen.data.video_files import DecodeReport
from tfvidgen.data.video_files import VideoClips
from tfvidgen.data.video_files import resolve_video_paths
from tfvidgen.data.video_files import video_clips
