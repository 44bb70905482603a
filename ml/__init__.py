"""NeuroScan model package: preprocessing, training, calibration, inference, Grad-CAM.

Plain Python (TensorFlow/Keras, numpy, OpenCV, Pillow); never imports Django.
"""
