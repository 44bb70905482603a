"""The decision rule: one pure function that the portal (ml.inference), calibration, evaluation and
the model card all call, so the rule that is measured is the rule that answers.

Safety first, asymmetric on purpose:
1. Refuse ("not a brain MRI", no label) when an input check fails, when the network's fifth output
   says "not a brain MRI", or when the slice's features lie far from every training MRI.
2. A tumour answer is given when the model's top class is a tumour, it is confident enough and
   the slice looks like the MRIs the model knows (the same stricter feature distance as in 3);
   otherwise it abstains as unsure. A tumour answer is never turned into "no tumour". (The
   distance check is there for kinds of image nobody showed the model: trained without head CT,
   a fold answered 71 of 263 head CT slices with no flag, 41 with this check, while 7 of 421 plain
   answers on validation MRIs became flagged: `python -m ml.loko`.)
3. A "no tumour" answer needs more: the no-tumour probability must reach its own, higher threshold
   (chosen on validation so that silent misses stay under the target on every source and sequence)
   AND the slice must look like the MRIs the model knows (a stricter feature distance). Otherwise
   it abstains, saying a person should look.
"""

from dataclasses import dataclass

import numpy as np

from ml import config, wording

NO_TUMOUR_INDEX = config.CLASS_NAMES.index(config.NO_TUMOUR_CLASS)


@dataclass(frozen=True)
class Thresholds:
    abstain: float  # a tumour answer needs at least this calibrated top probability
    no_tumour: float  # a "no tumour" answer needs at least this calibrated no-tumour probability
    not_mri: float  # the calibrated fifth-output probability at or above which the image is refused
    distance: float  # feature distance above which the image is refused (not like any training MRI)
    no_tumour_distance: float  # a "no tumour" answer needs a distance at or below this (<= distance)

    @classmethod
    def from_calibration(cls, calibration: dict) -> "Thresholds":
        return cls(
            abstain=float(calibration["abstain_threshold"]),
            no_tumour=float(calibration["no_tumour_threshold"]),
            not_mri=float(calibration["not_mri_threshold"]),
            distance=float(calibration["ood_threshold"]),
            no_tumour_distance=float(calibration["no_tumour_distance_threshold"]),
        )


@dataclass(frozen=True)
class Decision:
    kind: str | None  # None (a plain answer) or one of wording.ABSTAIN_KINDS
    reason: str | None  # the plain sentence for a clinician
    detail: str  # the numbers behind it


def decide(probabilities: np.ndarray, not_mri_probability: float, distance: float, thresholds: Thresholds, input_problem: str | None = None) -> Decision:
    """(4,) calibrated diagnosis probabilities (CLASS_NAMES order), the calibrated "not a brain MRI"
    probability, the feature distance and the thresholds -> the decision (see the module docstring)."""
    named = {name: float(value) for name, value in zip(config.CLASS_NAMES, probabilities)}
    if input_problem is not None:
        return Decision(wording.NOT_MRI, input_problem, input_problem)
    if not_mri_probability >= thresholds.not_mri:
        return Decision(wording.NOT_MRI, wording.not_mri_reason(), f"Not-a-brain-MRI output {not_mri_probability:.3f} >= {thresholds.not_mri:.3f}.")
    if distance > thresholds.distance:
        return Decision(wording.NOT_MRI, wording.not_mri_reason(), f"Feature distance {distance:.1f} > {thresholds.distance:.1f} (unlike every training MRI).")
    best = int(np.argmax(probabilities))
    confidence = float(probabilities[best])
    if best != NO_TUMOUR_INDEX:
        if confidence < thresholds.abstain:
            return Decision(wording.UNSURE, wording.unsure_reason(named), f"Top probability {confidence:.3f} < {thresholds.abstain:.3f}.")
        if distance > thresholds.no_tumour_distance:
            return Decision(wording.UNSURE, wording.unfamiliar_reason(named),
                            f"Feature distance {distance:.1f} > {thresholds.no_tumour_distance:.1f} (unlike most training MRIs).")  # fmt: skip
        return Decision(None, None, "")
    if confidence < thresholds.no_tumour or distance > thresholds.no_tumour_distance:
        detail = (
            f"No-tumour probability {confidence:.3f} (needs >= {thresholds.no_tumour:.3f}); "
            f"feature distance {distance:.1f} (needs <= {thresholds.no_tumour_distance:.1f})."
        )
        return Decision(wording.NO_TUMOUR_UNCONFIRMED, wording.no_tumour_unconfirmed_reason(named), detail)
    return Decision(None, None, "")
