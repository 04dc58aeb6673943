"""Hand tracking for the passthrough pipeline: 21 joints per hand from the (grayscale) stereo cameras.

* :mod:`.models` - reproducible model build (pinned mediapipe wheel -> TFLite -> ONNX, own converter in
  :mod:`.tflite_to_onnx`) and onnxruntime sessions;
* :mod:`.palm`, :mod:`.landmarks` - BlazePalm detection and the landmark model on rotated crops;
* :mod:`.tracker` - per-camera :class:`HandTracker` (detect / track, up to two hands, grayscale views);
* :mod:`.stereo` - :class:`StereoHandTracker`: matching, triangulation to metres, One Euro smoothing, pinch;
* :mod:`.filters`, :mod:`.gestures`, :mod:`.mask` - One Euro filter, pinch with hysteresis, 2-D hand masks;
* :mod:`.worker` - :class:`HandWorker`: the tracker on its own thread behind latest-value mailboxes;
* :mod:`.evaluate` - ``passthrough eval hands``.
"""
