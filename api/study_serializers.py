"""The API's shapes for studies. No business logic: studies.services and studies.selectors do the work."""

from django.urls import reverse
from rest_framework import serializers

from api.serializers import PATIENT_REF_MAX_LENGTH, text
from scans.models import ScanStatus
from studies.models import Study, StudySource, StudyStatus


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
    links = SliceLinksSerializer()


class SeriesSerializer(serializers.Serializer):
    number = serializers.IntegerField()
    description = serializers.CharField(allow_blank=True, help_text="e.g. 'AX T2 FLAIR'; empty if the files had none.")
    modality = serializers.CharField(allow_blank=True)
    parameters = serializers.DictField(help_text="Reading parameters: echo_time_ms, repetition_time_ms, slice_thickness_mm...")
    slices = SliceSerializer(many=True)


class StudyDetailSerializer(StudyIdentitySerializer):
    """One study for its owner or a reviewer. Context: request, progress, series (studies.selectors.study_series)."""

    note = serializers.CharField(allow_blank=True)
    skipped = FileProblemSerializer(many=True, help_text="Files of the upload that were not kept, and why.")
    summary = serializers.DictField(allow_null=True, help_text="Null until every slice has finished.")
    summarised_at = serializers.DateTimeField(allow_null=True)
    series = SeriesSerializer(many=True)

    def to_representation(self, study: Study) -> dict:
        request = self.context["request"]
        return {
            **self.identity(study, self.context["progress"]),
            "note": study.note,
            "skipped": study.skipped,
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
        }
