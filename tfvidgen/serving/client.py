"""A small REST client for tfvidgen models served by TF Serving."""

import json
import urllib.error
import urllib.request

import numpy as np

from tfvidgen import deprecation
from tfvidgen.serving import rest


class ServingClient:
    """Talks to `tensorflow_model_server --rest_api_port=...` serving a tfvidgen export.

    Requests are checked against the served signatures (fetched once from the
    metadata endpoint) before they are sent, and server errors come back as
    `ServingError` with the server's message.

    Args:
        url: the REST endpoint, e.g. `"http://localhost:8501"`.
        model_name: the served model's name.
        version: a version to pin, or `None` for the latest.
        timeout: seconds per request.

    Example:

    >>> client = ServingClient("http://localhost:8501", "convlstm")
    >>> future = client.rollout(context, num_future_frames=10)  # (batch, 10, H, W, C)
    """

    def __init__(self, url, model_name, version=None, timeout=60.0):
        self.url = url
        self.model_name = model_name
        self.version = version
        self.timeout = timeout
        self._metadata = None

    def _request(self, url, body=None):
        data = None if body is None else json.dumps(body).encode("utf-8")
        request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as error:
            text = error.read().decode("utf-8", "replace")
            try:
                message = json.loads(text).get("error", text)
            except ValueError:
                message = text
            raise rest.ServingError(f"{error.code} from {url}: {message}") from error
        except urllib.error.URLError as error:
            raise ConnectionError(f"Cannot reach TF Serving at {url}: {error.reason}") from error

    def metadata(self):
        """The model's metadata response (SignatureDefs), fetched once."""
        if self._metadata is None:
            self._metadata = self._request(rest.metadata_url(self.url, self.model_name, self.version))
        return self._metadata

    def predict(self, inputs, signature_name="serving_default", format="auto"):
        """Calls a signature; returns `{output name: np.ndarray}`."""
        metadata = self.metadata()
        body = rest.build_predict_request(inputs, signature_name, format, metadata=metadata)
        _, outputs = rest.signature_specs(metadata, signature_name)
        response = self._request(rest.predict_url(self.url, self.model_name, self.version), body)
        return rest.parse_predict_response(response, outputs)

    # === Predictors (ConvLSTM, SimVP): one contract for both ===

    def rollout(self, context, num_future_frames):
        """A predictor: `(batch, T, H, W, C)` context -> `(batch, N, H, W, C)` future frames."""
        inputs = {"context": np.asarray(context, np.float32), "num_future_frames": np.int32(num_future_frames)}
        return self.predict(inputs, "rollout", format="columnar")["future_frames"]

    def predict_future(self, context, horizon):
        """A predictor: `horizon` frames after `context`, as the model's `predict_future` (the `rollout` signature)."""
        return self.rollout(context, horizon)

    def next_frames(self, frames):
        """A predictor's one-pass prediction on `frames` (the `predict` signature): the ConvLSTM's next frame at
        every step, the SimVP's `future_frames` frames after them."""
        return self.predict({"frames": np.asarray(frames, np.float32)}, "predict")["next_frames"]

    # === Generative models (DCGAN, VAE) ===

    def sample(self, num_samples, seed=0, **inputs):
        """`num_samples` clips, reproducible for a seed; extra `inputs` for a family that declares more."""
        inputs = {"num_samples": np.int32(num_samples), "seed": np.int32(seed), **inputs}
        return self.predict(inputs, "sample", format="columnar")["clips"]

    def decode(self, latents):
        """Clips from `(batch, latent_dim)` latents (the `decode` signature)."""
        return self.predict({"latents": np.asarray(latents, np.float32)}, "decode")["clips"]

    def generate(self, latents):
        """Deprecated: `decode` (the GAN's `generate` signature, served one more release)."""
        deprecation.deprecated("generate", "decode", "ServingClient")
        return self.predict({"latents": np.asarray(latents, np.float32)}, "generate")["clips"]

    def encode(self, clips):
        """VAE: `{"z_mean", "z_log_var"}` for a batch of clips."""
        return self.predict({"clips": np.asarray(clips, np.float32)}, "encode")

    def reconstruct(self, clips):
        """VAE: `{"reconstruction", "z_mean", "z_log_var"}` for a batch of clips."""
        return self.predict({"clips": np.asarray(clips, np.float32)}, "reconstruct")

    # === The frame interpolator ===

    def interpolate(self, frame_a, frame_b):
        """The middle frames between two `(batch, H, W, C)` batches."""
        inputs = {"frame_a": np.asarray(frame_a, np.float32), "frame_b": np.asarray(frame_b, np.float32)}
        return self.predict(inputs, "interpolate", format="columnar")["middle"]

    def interpolate_clip(self, clip, factor=2):
        """`factor - 1` frames inserted between the neighbours of a `(frames, H, W, C)` clip."""
        inputs = {"clip": np.asarray(clip, np.float32), "factor": np.int32(factor)}
        return self.predict(inputs, "interpolate_clip", format="columnar")["frames"]
