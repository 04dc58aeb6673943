"""Depth reconstruction: rectified stereo frames in, dense metric depth + confidence of the left camera out.

Methods are chosen by name (:data:`METHODS`): the own numba census semi-global matcher at reduced
resolution with edge-aware upsampling (:data:`DEFAULT_METHOD`), OpenCV StereoSGBM / StereoBM, and the
full-resolution OpenCV SGBM reference ``opencv_sgbm_full``. See :class:`DepthEstimator`.
"""

from .methods import (DEFAULT_METHOD, METHODS, REFERENCE_METHOD, DepthEstimator, DepthResult, MethodSpec,
                      default_num_disparities, estimate_depth, get_method)
from .sgm import SGMParams, census_sgm, warmup
from .temporal import TemporalFilter, frame_to_frame_change

__all__ = ["DEFAULT_METHOD", "METHODS", "REFERENCE_METHOD", "DepthEstimator", "DepthResult", "MethodSpec",
           "default_num_disparities", "estimate_depth", "get_method", "SGMParams", "census_sgm", "warmup",
           "TemporalFilter", "frame_to_frame_change"]
