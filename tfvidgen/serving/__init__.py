"""Using exports: TF Serving configs, REST and gRPC requests, a client, a development server."""

from tfvidgen.serving.client import ServingClient
from tfvidgen.serving.dev_server import DevServer
from tfvidgen.serving.exported_model import ExportedModel
from tfvidgen.serving.grpc_requests import build_predict_request_proto
from tfvidgen.serving.grpc_requests import parse_predict_response_proto
from tfvidgen.serving.grpc_requests import predict_grpc
from tfvidgen.serving.model_config import model_config_list
from tfvidgen.serving.rest import ServingError
from tfvidgen.serving.rest import build_predict_request
from tfvidgen.serving.rest import metadata_url
from tfvidgen.serving.rest import parse_predict_response
from tfvidgen.serving.rest import predict_url
from tfvidgen.serving.rest import signature_specs
