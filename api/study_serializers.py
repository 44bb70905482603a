"""The API's shapes for studies. No business logic: studies.services and studies.selectors do the work."""

from django.urls import reverse
from rest_framework import serializers

from api.serializers import PATIENT_REF_MAX_LENGTH, FinalSerializer, text
from reviews.models import ReviewDecision
from scans.answer import ANSWER_SOURCES
from scans.models import ScanStatus
from studies.answer import ANALYSING, StudyAnswer, finding_name
from studies.models import Study, StudyFinding, StudyReview, StudySource, StudyStatus
from studies.reviews import OVERRIDE_FINDINGS
from studies.summary import StudyState

STUDY_STATES = StudyState.VALUES  # tumour_finding, needs_review, no_tumour, not_analysed


def _absolute(request, name: str, object_id) -> str:
    return request.build_absolute_uri(reverse(name, args=[object_id]))


class StudyUploadRequestSerializer(serializers.Serializer):
    """For the schema and the fields: the files themselves are read with request.FILES.getlist("file")."""

    file = serializers.ListField(
        child=serializers.FileField(), min_length=1,
        help_text="The study's DICOM files (each in its own part named `file`), or one zip of them "
                  "(folders inside allowed), or one NIfTI volume (.nii or .nii.gz).",
    )  # fmt: skip
    patient_ref = text(
        required=False, allow_blank=True, max_length=PATIENT_REF_MAX_LENGTH,
        help_text="Your own pseudonymous reference, e.g. a study code. Never a name or record number.",
    )  # fmt: skip
    note = text(required=False, allow_blank=True, max_length=500)


class StudyUploadFieldsSerializer(serializers.Serializer):
    patient_ref = text(required=False, allow_blank=True, max_length=PATIENT_REF_MAX_LENGTH)
    note = text(required=False, allow_blank=True, max_length=500)


class FileProblemSerializer(serializers.Serializer):
    """One file of a study upload that was not kept (or that made the study refused), and why."""

    name = serializers.CharField(help_text="The file's or zip member's name, as sent.")
    error = serializers.CharField(help_text="Why, for a person to read.")


class StudyRefusedSerializer(serializers.Serializer):
    error = serializers.CharField(help_text="Why the whole study was refused. Nothing was stored.")
    files = FileProblemSerializer(many=True, help_text="Each file's own problem, where it had one.")
    fields = serializers.DictField(required=False, help_text="Per-field messages, when a field was invalid.")


class ProgressSerializer(serializers.Serializer):
    total = serializers.IntegerField(help_text="Slices in the study.")
    finished = serializers.IntegerField(help_text="Slices whose analysis has finished (done or failed).")
    failed = serializers.IntegerField()


class StudyIdentitySerializer(serializers.Serializer):
    id = serializers.UUIDField()
    url = serializers.URLField(help_text="The study's API URL: poll it until `status` is done.")
    status = serializers.ChoiceField(choices=StudyStatus.choices)
    source = serializers.ChoiceField(choices=StudySource.choices)
    name = serializers.CharField(help_text="What the upload was called (a zip's or volume's name, or 'N files').")
    created_at = serializers.DateTimeField()
    patient_ref = serializers.CharField()
    progress = ProgressSerializer()

    def identity(self, study: Study, progress) -> dict:
        return {
            "id": str(study.id),
            "url": _absolute(self.context["request"], "api:study-detail", study.id),
            "status": study.status,
            "source": study.source,
            "name": study.original_name,
            "created_at": serializers.DateTimeField().to_representation(study.created_at),
            "patient_ref": study.patient_reference,
            "progress": {"total": progress.total, "finished": progress.finished, "failed": progress.failed},
        }


class StudySummarySerializer(StudyIdentitySerializer):
    """A study in a list: annotated by studies.selectors.studies_for_user."""

    def to_representation(self, study: Study) -> dict:
        from studies.selectors import Progress

        progress = Progress(total=study.slice_total, finished=study.slice_finished, failed=study.slice_failed)
        return self.identity(study, progress)


class SliceLinksSerializer(serializers.Serializer):
    scan = serializers.URLField(help_text="The slice's own scan: its result, reviews and links.")
    image = serializers.URLField()


class SliceSerializer(serializers.Serializer):
    position = serializers.IntegerField(help_text="0-based, in display order (feet to head when known).")
    location_mm = serializers.FloatField(allow_null=True, help_text="Along the slice normal (Image Position (Patient)).")
    instance_number = serializers.IntegerField(allow_null=True)
    scan_id = serializers.UUIDField()
    status = serializers.ChoiceField(choices=ScanStatus.choices)
    final = FinalSerializer(help_text="The slice's answer, as its scan's `final`: a slice review counts.")
    links = SliceLinksSerializer()


class SeriesSerializer(serializers.Serializer):
    number = serializers.IntegerField()
    description = serializers.CharField(allow_blank=True, help_text="e.g. 'AX T2 FLAIR'; empty if the files had none.")
    modality = serializers.CharField(allow_blank=True)
    parameters = serializers.DictField(help_text="Reading parameters: echo_time_ms, repetition_time_ms, slice_thickness_mm...")
    slices = SliceSerializer(many=True)


class StudyReviewSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    reviewer = serializers.CharField()
    decision = serializers.ChoiceField(choices=ReviewDecision.choices)
    ai_finding = serializers.ChoiceField(choices=STUDY_STATES, help_text="What the slices' answers added up to when reviewed.")
    final_finding = serializers.ChoiceField(choices=StudyFinding.choices)
    note = serializers.CharField(allow_blank=True)
    created_at = serializers.DateTimeField()

    def to_representation(self, review: StudyReview) -> dict:
        return {
            "id": review.pk,
            "reviewer": review.reviewer.get_username(),
            "decision": review.decision,
            "ai_finding": review.ai_finding,
            "final_finding": review.final_finding,
            "note": review.note,
            "created_at": serializers.DateTimeField().to_representation(review.created_at),
        }


class StudyAnswerSerializer(serializers.Serializer):
    """The study's answer (studies.answer): the standing study review's finding, else what the slices' answers add up to."""

    finding = serializers.ChoiceField(choices=[*STUDY_STATES, ANALYSING], help_text="`analysing` until every slice has finished, unless a person reviewed the study: its finding stands while slices are analysed again.")
    finding_display = serializers.CharField()
    source = serializers.ChoiceField(choices=ANSWER_SOURCES, allow_null=True,
                                     help_text="`reviewer`: a study review; `ai`: the slices' answers (some may be reviewed).")  # fmt: skip
    headline = serializers.CharField()
    byline = serializers.CharField(allow_blank=True)
    slices_finding = serializers.ChoiceField(choices=STUDY_STATES, allow_null=True,
                                             help_text="What the slices' answers add up to now, slice reviews counted.")  # fmt: skip
    recorded_finding = serializers.ChoiceField(choices=STUDY_STATES, allow_null=True,
                                               help_text="The state of `summary`, written once when the last slice finished.")  # fmt: skip
    reviewed_slices = serializers.IntegerField(help_text="Slices whose own answer is a person's.")
    review = StudyReviewSerializer(allow_null=True, help_text="The standing study review.")
    analysing = serializers.BooleanField(help_text="Some slice is queued or being analysed: there is no summary now.")

    def to_representation(self, answer: StudyAnswer) -> dict:
        return {
            "finding": answer.finding,
            "finding_display": finding_name(answer.finding),
            "source": answer.source,
            "headline": answer.headline,
            "byline": answer.byline,
            "slices_finding": answer.slices_finding,
            "recorded_finding": answer.recorded_finding,
            "reviewed_slices": answer.reviewed_slices,
            "review": StudyReviewSerializer(answer.review).data if answer.review else None,
            "analysing": answer.analysing,
        }


class StudyLinksSerializer(serializers.Serializer):
    report = serializers.URLField(allow_null=True, help_text="The study's PDF report; null until every slice has finished.")
    reviews = serializers.URLField(help_text="The study's reviews: read them, or add one.")


class StudyDetailSerializer(StudyIdentitySerializer):
    """One study for its owner or a reviewer.

    Context: request, progress, series (studies.selectors.study_series), answer (studies.answer),
    slice_answers ({scan id: scans.answer.Answer}).
    """

    note = serializers.CharField(allow_blank=True)
    skipped = FileProblemSerializer(many=True, help_text="Files of the upload that were not kept, and why.")
    answer = StudyAnswerSerializer(help_text="Read this first: the reviewed finding, else what the slices' answers add up to.")
    summary = serializers.DictField(allow_null=True, help_text="The AI summary as written once, when the last slice finished; null before.")
    summarised_at = serializers.DateTimeField(allow_null=True)
    series = SeriesSerializer(many=True)
    links = StudyLinksSerializer()

    def to_representation(self, study: Study) -> dict:
        request = self.context["request"]
        return {
            **self.identity(study, self.context["progress"]),
            "note": study.note,
            "skipped": study.skipped,
            "answer": StudyAnswerSerializer(self.context["answer"]).data,
            "summary": study.summary,
            "summarised_at": serializers.DateTimeField().to_representation(study.summarised_at) if study.summarised_at else None,
            "series": [
                {
                    "number": series.number,
                    "description": series.description,
                    "modality": series.modality,
                    "parameters": series.parameters,
                    "slices": [
                        {
                            "position": item.position,
                            "location_mm": item.location_mm,
                            "instance_number": item.instance_number,
                            "scan_id": str(item.scan_id),
                            "status": item.scan.status,
                            "final": FinalSerializer(self.context["slice_answers"][item.scan_id]).data,
                            "links": {
                                "scan": _absolute(request, "api:scan-detail", item.scan_id),
                                "image": _absolute(request, "api:scan-image", item.scan_id),
                            },
                        }
                        for item in series.ordered_slices
                    ],
                }
                for series in self.context["series"]
            ],
            "links": {
                "report": _absolute(request, "api:study-report", study.id) if study.summary is not None else None,
                "reviews": _absolute(request, "api:study-reviews", study.id),
            },
        }


# --- Study reviews ----------------------------------------------------------------------------------


class StudyReviewRequestSerializer(serializers.Serializer):
    """Validates the request on its own; what depends on the study (finished? its finding?) is the service's."""

    decision = serializers.ChoiceField(choices=ReviewDecision.choices)
    override_finding = serializers.ChoiceField(
        choices=OVERRIDE_FINDINGS, required=False, allow_blank=True,
        help_text="Required when decision is `overridden`: the finding that replaces the slices' finding.",
    )  # fmt: skip
    note = text(required=False, allow_blank=True, max_length=2000)

    def validate(self, data: dict) -> dict:
        if data["decision"] == ReviewDecision.OVERRIDDEN and not data.get("override_finding"):
            raise serializers.ValidationError({"override_finding": ["Choose the finding that replaces the slices' finding."]})
        return data


# The schema's view of the same body: one shape per decision, as for a scan's review.
class ConfirmStudyReviewSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(choices=[ReviewDecision.CONFIRMED.value], help_text="Confirm what the slices' answers add up to.")
    note = text(required=False, allow_blank=True, max_length=2000)


class OverrideStudyReviewSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(choices=[ReviewDecision.OVERRIDDEN.value])
    override_finding = serializers.ChoiceField(choices=OVERRIDE_FINDINGS, help_text="The finding that replaces the slices' finding.")
    note = text(required=False, allow_blank=True, max_length=2000)


class UnusableStudyReviewSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(choices=[ReviewDecision.UNUSABLE.value], help_text="The study cannot be read: not analysed.")
    note = text(required=False, allow_blank=True, max_length=2000)
