"""A study's slices are scans, but not single uploads: no scans quota, no history rows, no worklist rows.

They stay what any scan is to its owner and the reviewers: reachable, by the same one selector,
through the study page (detail, image, heatmap).
"""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.urls import reverse

from api.tests.conftest import token_client
from neuroscan.dashboard import dashboard_for_user
from reviews.selectors import worklist_counts, worklist_for_reviewer
from scans.errors import ScanRejected
from scans.models import Scan
from scans.selectors import scans_history_for_user, scans_label_counts_for_user, scans_state_counts_for_user
from scans.services import scan_analyse
from scans.tests.factories import FakeClassifier, image_bytes, make_done_scan, make_scan, unsure_result, upload_file
from studies.models import Study, StudySlice
from studies.services import study_ingest
from studies.tests.factories import dicom_series, uploads

pytestmark = pytest.mark.django_db


def _analysed_study(owner, count: int = 3) -> Study:
    """A study whose slices are all analysed, each a doubt: exactly what the worklist and the chips would pick up."""
    study = study_ingest(owner=owner, files=uploads(dicom_series(count)))
    for scan in Scan.objects.filter(study_slice__series__study=study):
        assert scan_analyse(scan_id=scan.id, classifier_factory=lambda: FakeClassifier(unsure_result())) == "done"
    return study


def _slice_ids(study: Study) -> set[str]:
    return {str(pk) for pk in StudySlice.objects.filter(series__study=study).values_list("scan_id", flat=True)}


def test_a_150_slice_study_uploads_with_the_default_limits_and_single_uploads_still_work(client, alice, settings):
    # The defaults, not a test's own: a normal user, 100 single uploads an hour, 500 slices a study.
    assert settings.SCANS_UPLOADS_PER_HOUR == 100 and settings.STUDIES_MAX_SLICES >= 150
    client.force_login(alice)
    response = client.post(reverse("studies:upload"), {"files": uploads(dicom_series(150, shuffle=False))})
    assert response.status_code == 302, response.content[:500]
    study = Study.objects.get()
    assert StudySlice.objects.filter(series__study=study).count() == 150
    assert Scan.objects.filter(owner=alice, part_of_study=True).count() == 150
    # 150 slices are more than the hour's 100 single uploads, yet a single upload is still accepted.
    response = client.post(reverse("scans:upload"), {"files": [upload_file(image_bytes(), "single.png")]})
    assert response.status_code == 302, response.content[:500]
    single = Scan.objects.get(owner=alice, part_of_study=False)
    assert response["Location"] == reverse("scans:detail", args=[single.id])


def test_the_scans_quota_counts_single_uploads_only_below_at_and_above(alice, settings):
    settings.SCANS_UPLOADS_PER_HOUR = 2
    study_ingest(owner=alice, files=uploads(dicom_series(3)))
    make_scan(alice, data=image_bytes(width=90))
    make_scan(alice, data=image_bytes(width=91))  # at the limit
    with pytest.raises(ScanRejected) as refused:
        make_scan(alice, data=image_bytes(width=92))
    assert refused.value.code == "quota"
    assert Scan.objects.filter(owner=alice, part_of_study=False).count() == 2


def test_history_its_chips_the_dashboard_and_the_api_list_show_single_uploads_only(client, alice):
    study = _analysed_study(alice)
    single = make_done_scan(alice, name="single.png")
    assert [scan.id for scan in scans_history_for_user(user=alice)] == [single.id]
    assert scans_label_counts_for_user(user=alice) == {"glioma": 1}
    assert scans_state_counts_for_user(user=alice) == {"analysed": 1}
    dashboard = dashboard_for_user(user=alice)
    assert dashboard.total == 1 and dashboard.needs_review == 0 and [scan.id for scan in dashboard.recent] == [single.id]

    client.force_login(alice)
    page = client.get(reverse("scans:history")).content.decode()
    assert "single.png" in page and "IM0001.dcm" not in page
    assert not any(scan_id in page for scan_id in _slice_ids(study))
    assert reverse("studies:list") in page  # studies have their own list, linked from history

    body = token_client(alice).get("/api/v1/scans/").json()
    assert body["count"] == 1 and [item["id"] for item in body["results"]] == [str(single.id)]


def test_the_worklist_lists_single_uploads_only(alice, bob, client):
    study = _analysed_study(alice)
    single = make_done_scan(alice, result=unsure_result())
    assert [scan.id for scan in worklist_for_reviewer()] == [single.id]
    assert dict(worklist_counts())["Needs review"] == 1
    client.force_login(bob)
    page = client.get(reverse("reviews:worklist")).content.decode()
    assert str(single.id) in page and not any(scan_id in page for scan_id in _slice_ids(study))


@pytest.mark.parametrize("name", ["detail", "image", "heatmap", "thumbnail"])
def test_a_study_slice_is_still_served_to_its_owner_and_reviewers_not_to_strangers(client, alice, bob, charlie, name):
    study = _analysed_study(alice, count=2)
    scan_id = sorted(_slice_ids(study))[0]
    url = reverse(f"scans:{name}", args=[scan_id])
    for user, status in ((alice, 200), (bob, 200), (charlie, 404)):
        client.force_login(user)
        assert client.get(url).status_code == status, (user.username, name)
    assert token_client(alice).get(f"/api/v1/scans/{scan_id}/").status_code == 200
    assert token_client(charlie).get(f"/api/v1/scans/{scan_id}/").status_code == 404


@pytest.mark.django_db(transaction=True)
def test_the_migration_marks_the_slices_stored_before_it(alice):
    before = [("scans", "0006_prediction_heat"), ("studies", "0001_initial")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    old = executor.loader.project_state(before).apps
    Scan, Study = old.get_model("scans", "Scan"), old.get_model("studies", "Study")
    Series, StudySlice = old.get_model("studies", "Series"), old.get_model("studies", "StudySlice")

    def scan(name: str):
        return Scan.objects.create(owner_id=alice.pk, original_name=name, sha256="0" * 64, size_bytes=1, format="png",
                                   width=1, height=1)  # fmt: skip

    single, in_study = scan("single.png"), scan("slice.dcm")
    study = Study.objects.create(owner_id=alice.pk, source="dicom", original_name="study.zip")
    StudySlice.objects.create(series=Series.objects.create(study=study, number=1), scan=in_study, position=0)
    executor = MigrationExecutor(connection)
    executor.migrate([("scans", "0007_scan_part_of_study")])
    new = executor.loader.project_state([("scans", "0007_scan_part_of_study")]).apps
    marked = dict(new.get_model("scans", "Scan").objects.values_list("original_name", "part_of_study"))
    assert marked == {"single.png": False, "slice.dcm": True}
    MigrationExecutor(connection).migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
