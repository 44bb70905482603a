"""The NeuroScan CNN: one readable builder function, and how the classifier applies it.

A strided stem and max-pooling bring the 160x160 slice down to 20x20 quickly, so the model
trains in tens of ms per image on two CPU cores and predicts in a few milliseconds. The last block
stays at 20x20 (S/8) so that Grad-CAM can point at a lesion, not at a quarter of the head, and a
1x1 segmentation head on it is trained from the LGG masks so that those maps follow the lesion; at
inference it also weights the Grad-CAM cells (ml.inference.lesion_weights).
"""

import keras
from keras import layers, ops

from ml import config


@keras.saving.register_keras_serializable(package="neuroscan")
class PerImageStandardisation(layers.Layer):
    """(B, H, W, C) -> same shape with zero mean and unit variance per image.

    Makes the network blind to global brightness and linear contrast, which differ between
    scanners and collections and must not drive the diagnosis.
    """

    def call(self, images):
        mean = ops.mean(images, axis=(1, 2, 3), keepdims=True)
        variance = ops.var(images, axis=(1, 2, 3), keepdims=True)
        return (images - mean) / ops.sqrt(variance + 1e-4)


def _conv_block(inputs, filters: int, name: str, last_activation_name: str | None = None):
    """Two 3x3 conv + batch-norm + ReLU layers; (B, H, W, C) -> (B, H, W, filters)."""
    x = layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"{name}_conv1")(inputs)
    x = layers.BatchNormalization(name=f"{name}_bn1")(x)
    x = layers.ReLU(name=f"{name}_relu1")(x)
    x = layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"{name}_conv2")(x)
    x = layers.BatchNormalization(name=f"{name}_bn2")(x)
    return layers.ReLU(name=last_activation_name or f"{name}_relu2")(x)


def build_model(image_size: int = config.IMAGE_SIZE, dropout: float = 0.3) -> keras.Model:
    """(B, image_size, image_size, 1) grey slices in [0, 1] -> [(B, 5) class logits, (B, S/8, S/8, 1) lesion logits].

    Class logits in NETWORK_CLASSES order (four diagnoses + "not a brain MRI"); logits, not
    probabilities: the softmax is applied after temperature scaling.
    """
    inputs = keras.Input((image_size, image_size, 1), name="image")
    x = PerImageStandardisation(name="standardise")(inputs)
    x = layers.Conv2D(24, 5, strides=2, padding="same", use_bias=False, name="stem_conv")(x)  # (B, S/2, S/2, 24)
    x = layers.BatchNormalization(name="stem_bn")(x)
    x = layers.ReLU(name="stem_relu")(x)
    x = layers.Conv2D(32, 3, padding="same", use_bias=False, name="stage1_conv")(x)
    x = layers.BatchNormalization(name="stage1_bn")(x)
    x = layers.ReLU(name="stage1_relu")(x)
    x = layers.MaxPooling2D(name="stage1_pool")(x)  # (B, S/4, S/4, 32)
    x = _conv_block(x, 64, "stage2")
    x = layers.MaxPooling2D(name="stage2_pool")(x)  # (B, S/8, S/8, 64)
    x = _conv_block(x, 128, "stage3")  # (B, S/8, S/8, 128)
    x = _conv_block(x, 128, "stage4", last_activation_name=config.LAST_CONV_LAYER_NAME)  # (B, S/8, S/8, 128)
    segmentation = layers.Conv2D(1, 1, name=config.SEGMENTATION_LAYER_NAME)(x)  # (B, S/8, S/8, 1)
    features = layers.GlobalAveragePooling2D(name=config.FEATURE_LAYER_NAME)(x)  # (B, 128)
    x = layers.Dropout(dropout, name="dropout")(features)
    logits = layers.Dense(len(config.NETWORK_CLASSES), name=config.LOGITS_LAYER_NAME)(x)  # (B, 5)
    return keras.Model(inputs, [logits, segmentation], name="neuroscan_cnn")


def inference_outputs_model(model: keras.Model) -> keras.Model:
    """(B, S, S, 1) -> [last conv maps (B, h, w, C), logits (B, K), OOD features (B, D), lesion
    logits (B, h, w, 1)] of one view: everything the heat map and the OOD check need, in one pass.
    The OOD features are the spatial means of the OOD_FEATURE_LAYERS activations, concatenated."""
    pooled = ops.concatenate([ops.mean(model.get_layer(name).output, axis=(1, 2)) for name in config.OOD_FEATURE_LAYERS], axis=-1)
    outputs = [model.get_layer(config.LAST_CONV_LAYER_NAME).output, model.get_layer(config.LOGITS_LAYER_NAME).output, pooled,
               model.get_layer(config.SEGMENTATION_LAYER_NAME).output]  # fmt: skip
    return keras.Model(model.input, outputs)


def classifier_outputs(outputs_model: keras.Model, images):
    """(B, S, S, 1) -> (logits (B, K), OOD features (B, D)) as the classifier uses them, one view of
    each slice. `outputs_model` from inference_outputs_model."""
    _, logits, features, _ = outputs_model(images, training=False)
    return logits, features
