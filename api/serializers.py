"""The API's shapes: request validation and response bodies. No business logic: that lives in services."""

from django.urls import reverse
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from rest_framework import serializers

from api.health import REACHABILITY
from ml.config import CLASS_NAMES
from reviews.models import ReviewDecision
from ml.wording import ABSTAIN_KINDS, format_probability
from scans.answer import ANSWER_SOURCES, Answer, AnswerState, answer_of
from scans.models import Prediction, Scan, ScanStatus

PATIENT_REF_MAX_LENGTH = 64  # as scans.forms.UploadForm and Scan.patient_reference


class Text(serializers.CharField):
    """A CharField whose schema also says what DRF enforces anyway: no NUL characters."""


class TextExtension(OpenApiSerializerFieldExtension):
    target_class = Text

    def map_serializer_field(self, auto_schema, direction) -> dict:
        schema = auto_schema._map_serializer_field(self.target, direction, bypass_extensions=True)
        return {**schema, "pattern": r"^[^\x00]*$"}


def text(**kwargs) -> Text:
    return Text(**kwargs)


def absolute(request, name: str, scan: Scan) -> str:
    return request.build_absolute_uri(reverse(name, args=[scan.id]))


# --- Errors -----------------------------------------------------------------------------------


class ErrorSerializer(serializers.Serializer):
    error = serializers.CharField(help_text="What went wrong, for a person to read.")
    fields = serializers.DictField(required=False, help_text="Per-field messages, when the request's fields were invalid.")


# --- Auth -------------------------------------------------------------------------------------


class TokenRequestSerializer(serializers.Serializer):
    username = text(max_length=150, trim_whitespace=False)
    password = text(max_length=4096, trim_whitespace=False, style={"input_type": "password"})


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField(help_text="Send it as `Authorization: Token <token>`. Shown once: the server keeps only a hash.")
    expires_at = serializers.DateTimeField(help_text="When it stops working (it also stops at once if the password changes).")


# --- Upload -------------------------------------------------------------------------------------


class UploadRequestSerializer(serializers.Serializer):
    """For the schema and for `patient_ref`: the files themselves are read with request.FILES.getlist("file")."""

    file = serializers.ListField(
        child=serializers.FileField(), min_length=1,
        help_text="One or more image files (JPEG, PNG, BMP, TIFF or DICOM), each in its own part named `file`.",
    )  # fmt: skip
    patient_ref = text(
        required=False, allow_blank=True, max_length=PATIENT_REF_MAX_LENGTH,
        help_text="Your own pseudonymous reference, e.g. a study code. Never a name or record number.",
    )  # fmt: skip


class UploadFieldsSerializer(serializers.Serializer):
    patient_ref = text(required=False, allow_blank=True, max_length=PATIENT_REF_MAX_LENGTH)


class CreatedScanSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    status = serializers.ChoiceField(choices=ScanStatus.choices)
    original_filename = serializers.CharField()
    url = serializers.URLField(help_text="The scan's API URL: poll it until `status` is done or failed.")

    def to_representation(self, scan: Scan) -> dict:
        return {
            "id": str(scan.id),
            "status": scan.status,
            "original_filename": scan.original_name,
            "url": absolute(self.context["request"], "api:scan-detail", scan),
        }


class RefusedFileSerializer(serializers.Serializer):
    name = serializers.CharField()
    error = serializers.CharField()
    code = serializers.ChoiceField(
        choices=["invalid", "too_large", "quota", "deferred"],
        help_text="Why: `deferred` files were not looked at (the request's decoding budget was spent); send them again. "
        "The others are refusals: sending the same file again is refused again.",
    )


class UploadRefusedSerializer(serializers.Serializer):
    error = serializers.CharField()
    files = RefusedFileSerializer(many=True, help_text="Each refused file and why.")
    scans = CreatedScanSerializer(many=True, help_text="The files of the batch that were accepted and kept.")
    fields = serializers.DictField(required=False, help_text="Per-field messages, when a field was invalid.")


# --- Lists --------------------------------------------------------------------------------------


class ScanFilterSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=ScanStatus.choices, required=False)
    label = serializers.ChoiceField(
        choices=CLASS_NAMES, required=False,
        help_text="The final label (`final.label`: the standing review's, else the AI's) of an analysed scan.",
    )  # fmt: skip
    state = serializers.ChoiceField(choices=AnswerState.VALUES, required=False, help_text="The answer's state (`final.state`).")
    ai_label = serializers.ChoiceField(choices=CLASS_NAMES, required=False, help_text="The AI's own latest label, as recorded.")
    abstained = serializers.BooleanField(required=False, help_text="The model declined to commit to a label (as recorded).")
    created_after = serializers.DateField(required=False, help_text="Uploaded on or after this day (YYYY-MM-DD).")
    created_before = serializers.DateField(required=False, help_text="Uploaded on or before this day (YYYY-MM-DD).")
    q = text(required=False, allow_blank=True, max_length=100, help_text="Part of the patient reference or file name.")


class ScanIdentitySerializer(serializers.Serializer):
    """The fields that name a scan, shared by the list and the detail representation."""

    id = serializers.UUIDField()
    status = serializers.ChoiceField(choices=ScanStatus.choices)
    created_at = serializers.DateTimeField()
    original_filename = serializers.CharField()
    patient_ref = serializers.CharField()

    @staticmethod
    def identity(scan: Scan) -> dict:
        return {
            "id": str(scan.id),
            "status": scan.status,
            "created_at": serializers.DateTimeField().to_representation(scan.created_at),
            "original_filename": scan.original_name,
            "patient_ref": scan.patient_reference,
        }


class FinalSerializer(serializers.Serializer):
    """The scan's answer (scans.answer): what a person should read first. `result` stays the AI's record."""

    state = serializers.ChoiceField(choices=AnswerState.VALUES)
    label = serializers.ChoiceField(
        choices=CLASS_NAMES, allow_null=True,
        help_text="The standing review's label, else the AI's; null when not analysed, failed or unfinished.",
    )  # fmt: skip
    label_display = serializers.CharField(allow_blank=True)
    source = serializers.ChoiceField(choices=ANSWER_SOURCES, allow_null=True, help_text="Who gave the answer.")
    reviewer = serializers.CharField(allow_null=True)
    reviewed_at = serializers.DateTimeField(allow_null=True)
    headline = serializers.CharField(help_text="The first line to show, e.g. `Glioma`, or the state when there is no label.")
    byline = serializers.CharField(allow_blank=True, help_text="Who answered and when, and what the AI suggested.")
    reason = serializers.CharField(allow_blank=True, help_text="Why there is no plain answer, in plain words.")

    def to_representation(self, answer: Answer) -> dict:
        return {
            "state": answer.state,
            "label": answer.final_label,
            "label_display": answer.label_name,
            "source": answer.source,
            "reviewer": answer.reviewer or None,
            "reviewed_at": serializers.DateTimeField().to_representation(answer.reviewed_at) if answer.reviewed_at else None,
            "headline": answer.headline,
            "byline": answer.byline,
            "reason": answer.reason,
        }


class ScanSummarySerializer(ScanIdentitySerializer):
    final = FinalSerializer()
    label = serializers.ChoiceField(choices=CLASS_NAMES, allow_null=True, help_text="The AI's latest label, as recorded.")
    confidence = serializers.FloatField(allow_null=True)
    abstained = serializers.BooleanField(allow_null=True)
    url = serializers.URLField()

    def to_representation(self, scan: Scan) -> dict:
        # `scan` comes from scans_history_for_user, annotated with its answer and latest prediction.
        return {
            **self.identity(scan),
            "final": FinalSerializer(answer_of(scan)).data,
            "label": scan.latest_label,
            "confidence": scan.latest_confidence,
            "abstained": scan.latest_abstained,
            "url": absolute(self.context["request"], "api:scan-detail", scan),
        }


# --- One scan ------------------------------------------------------------------------------------


ProbabilitiesSerializer = type(
    "ProbabilitiesSerializer",
    (serializers.Serializer,),
    {name: serializers.FloatField(min_value=0.0, max_value=1.0) for name in CLASS_NAMES},
)


ProbabilitiesDisplaySerializer = type(
    "ProbabilitiesDisplaySerializer",
    (serializers.Serializer,),
    {name: serializers.CharField() for name in CLASS_NAMES},
)


class ResultSerializer(serializers.Serializer):
    label = serializers.ChoiceField(choices=CLASS_NAMES)
    probabilities = ProbabilitiesSerializer(help_text="Calibrated probability of each class.")
    confidence = serializers.FloatField()
    abstained = serializers.BooleanField(help_text="True when the model gave no plain answer: a person must read it.")
    abstain_kind = serializers.ChoiceField(
        choices=ABSTAIN_KINDS, allow_null=True,
        help_text="Why: `not_mri` is a refusal (the label and probabilities are no finding); the others ask for review.",
    )  # fmt: skip
    abstain_reason = serializers.CharField(allow_null=True, help_text="Why, in plain words for a clinician.")
    technical_detail = serializers.CharField(allow_blank=True, help_text="The numbers and thresholds behind it.")
    confidence_display = serializers.CharField(help_text="The confidence as shown to people: `> 99 %`, `< 1 %`, `51 %`.")
    probabilities_display = ProbabilitiesDisplaySerializer(help_text="Each probability as shown to people.")
    model_version = serializers.CharField()
    timings_ms = serializers.DictField(child=serializers.FloatField(), help_text="Time spent per stage, in ms.")

    def to_representation(self, prediction: Prediction) -> dict:
        probabilities = {name: float(prediction.probabilities.get(name, 0.0)) for name in CLASS_NAMES}
        return {
            "label": prediction.label,
            "probabilities": probabilities,
            "confidence": prediction.confidence,
            "abstained": prediction.abstained,
            "abstain_kind": prediction.abstain_kind or None,
            "abstain_reason": prediction.abstain_reason or None,
            "technical_detail": prediction.technical_detail,
            "confidence_display": format_probability(prediction.confidence),
            "probabilities_display": {name: format_probability(value) for name, value in probabilities.items()},
            "model_version": prediction.model_version,
            "timings_ms": {name: float(value) for name, value in prediction.timings_ms.items()},
        }


class ReviewSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    reviewer = serializers.CharField()
    decision = serializers.ChoiceField(choices=ReviewDecision.choices)
    ai_label = serializers.ChoiceField(choices=CLASS_NAMES)
    final_label = serializers.ChoiceField(choices=CLASS_NAMES, allow_blank=True, help_text="Empty when the decision is `unusable`.")
    note = serializers.CharField(allow_blank=True)
    model_version = serializers.CharField()
    created_at = serializers.DateTimeField()

    def to_representation(self, review) -> dict:
        return {
            "id": review.pk,
            "reviewer": review.reviewer.get_username(),
            "decision": review.decision,
            "ai_label": review.ai_label,
            "final_label": review.final_label,
            "note": review.note,
            "model_version": review.model_version,
            "created_at": serializers.DateTimeField().to_representation(review.created_at),
        }


class LinksSerializer(serializers.Serializer):
    image = serializers.URLField()
    heatmap = serializers.URLField(allow_null=True, help_text="Null until the analysis is done, and for an image the model refused.")
    report = serializers.URLField(allow_null=True, help_text="Null until the analysis is done.")


class ScanDetailSerializer(ScanIdentitySerializer):
    """One scan for its owner or a reviewer. Context: request, prediction (or None), reviews."""

    width = serializers.IntegerField()
    height = serializers.IntegerField()
    failure_reason = serializers.CharField(allow_blank=True)
    final = FinalSerializer(help_text="The answer to read first: the standing review's label, else the AI's, and its state.")
    result = ResultSerializer(allow_null=True, help_text="The AI's own result, as recorded; null until the analysis is done.")
    reviews = ReviewSerializer(many=True, help_text="Oldest first; the last one is the standing verdict.")
    links = LinksSerializer()

    def to_representation(self, scan: Scan) -> dict:
        request, prediction = self.context["request"], self.context["prediction"]
        has_heatmap = prediction is not None and prediction.has_heatmap
        return {
            **self.identity(scan),
            "width": scan.width,
            "height": scan.height,
            "failure_reason": scan.failure_reason,
            "final": FinalSerializer(answer_of(scan)).data,
            "result": ResultSerializer(prediction).data if prediction is not None else None,
            "reviews": ReviewSerializer(self.context["reviews"], many=True).data,
            "links": {
                "image": absolute(request, "api:scan-image", scan),
                # A refusal has no heatmap to show as a finding.
                "heatmap": absolute(request, "api:scan-heatmap", scan) if has_heatmap else None,
                "report": absolute(request, "api:scan-report", scan) if prediction is not None else None,
            },
        }


# --- Reviews ----------------------------------------------------------------------------------------


class ReviewRequestSerializer(serializers.Serializer):
    """Validates the request on its own; what depends on the scan (finished? the AI's label?) is the service's."""

    decision = serializers.ChoiceField(choices=ReviewDecision.choices)
    override_label = serializers.ChoiceField(
        choices=CLASS_NAMES, required=False, allow_blank=True,
        help_text="Required when decision is `overridden`: the class that replaces the AI label.",
    )  # fmt: skip
    note = text(required=False, allow_blank=True, max_length=2000)

    def validate(self, data: dict) -> dict:
        if data["decision"] == ReviewDecision.OVERRIDDEN and not data.get("override_label"):
            raise serializers.ValidationError({"override_label": ["Choose the class that replaces the AI label."]})
        return data


# The schema's view of the same body: one shape per decision, so that clients (and schemathesis)
# know that an override names its class.
class ConfirmReviewSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(choices=[ReviewDecision.CONFIRMED.value])
    note = text(required=False, allow_blank=True, max_length=2000)


class OverrideReviewSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(choices=[ReviewDecision.OVERRIDDEN.value])
    override_label = serializers.ChoiceField(choices=CLASS_NAMES, help_text="The class that replaces the AI label.")
    note = text(required=False, allow_blank=True, max_length=2000)


class UnusableReviewSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(choices=[ReviewDecision.UNUSABLE.value], help_text="Not a brain MRI / unusable image.")
    note = text(required=False, allow_blank=True, max_length=2000)


# --- Model and health -------------------------------------------------------------------------------


class HealthChecksSerializer(serializers.Serializer):
    database = serializers.ChoiceField(choices=REACHABILITY)
    broker = serializers.ChoiceField(choices=REACHABILITY)
    worker = serializers.ChoiceField(
        choices=REACHABILITY,
        help_text="`ok` if a worker answered a ping (Redis) or, on the embedded filesystem broker, if a worker "
        "process on the portal's machine has the model loaded.",
    )  # fmt: skip


class HealthSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=REACHABILITY)
    checks = HealthChecksSerializer()
