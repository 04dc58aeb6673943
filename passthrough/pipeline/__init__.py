"""The running pipeline: camera-rate stage (rectify + depth), display-rate stage (reproject to the eyes
at the predicted display time + holograms + composite), hand tracking on its own worker, and the
schedulers that run them (:mod:`.scheduler`)."""
