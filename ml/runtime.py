"""Process-level TensorFlow set-up shared by every command (training, calibration, evaluation, bench)."""

from ml import config


def configure_tensorflow(threads: int = config.CPU_THREADS) -> None:
    """Fix thread counts before TensorFlow starts its pools; a no-op once TF already runs."""
    import tensorflow as tf

    try:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
    except RuntimeError:
        pass  # TensorFlow was initialised by the caller (a test, a notebook): keep its pools
