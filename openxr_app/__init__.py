"""OpenXR app: runs the passthrough pipeline inside an OpenXR session.

* :mod:`openxr_app.display` -- the app-side rendering interface (:class:`~openxr_app.display.DisplayStage`,
  :class:`~openxr_app.display.EyeView`, :class:`~openxr_app.display.EyeImage`) and the fov -> ``K`` /
  GL projection conversions.
* :mod:`openxr_app.session` -- :class:`~openxr_app.session.XrSession`, a small session class over pyopenxr
  (instance, system, EGL OpenGL binding, state machine, spaces, colour + depth swapchains, frame calls).
* :mod:`openxr_app.gl_render` -- uploads the stage's per-eye images into the swapchain images and draws
  holograms with a depth test against the real depth.
* :mod:`openxr_app.stages` -- :class:`~openxr_app.stages.ProjectedImageStage`, a fixed RGB-D image
  reprojected to each eye with a pinhole model.
* :mod:`openxr_app.app` -- the frame loop and its measurements; :mod:`openxr_app.cli` -- ``passthrough run``
  and ``passthrough xr-info``.

pyopenxr and PyOpenGL are imported lazily, so importing this package never needs an OpenXR runtime.
"""
