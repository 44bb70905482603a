"""Studies and study reviews in the admin: staff can look, nobody can add, change or delete there."""

import pytest
from django.urls import reverse

from conftest import PASSWORD
from studies.models import StudyReview
from studies.reviews import study_review_create
from studies.tests.summarised import glioma, no_tumour, summarised_study

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client, django_user_model):
    client.force_login(django_user_model.objects.create_superuser("root", "root@example.org", PASSWORD))
    return client


@pytest.fixture
def reviewed_study(alice, bob):
    study = summarised_study(alice, [no_tumour(), glioma(0.9)])
    study_review_create(study=study, reviewer=bob, decision="overridden", override_finding="no_tumour", note="Flow artefact.")
    return study


def test_staff_list_and_open_studies_with_their_series_and_reviews(staff_client, reviewed_study):
    listing = staff_client.get(reverse("admin:studies_study_changelist"), {"q": str(reviewed_study.id)})
    assert listing.status_code == 200 and str(reviewed_study.id) in listing.content.decode()
    page = staff_client.get(reverse("admin:studies_study_change", args=[reviewed_study.pk])).content.decode()
    description = reviewed_study.series.get().description
    assert description and description in page and "Flow artefact." in page
    review = StudyReview.objects.get(study=reviewed_study)
    assert staff_client.get(reverse("admin:studies_studyreview_change", args=[review.pk])).status_code == 200


def test_staff_cannot_add_change_or_delete_studies_or_reviews(staff_client, reviewed_study):
    review = StudyReview.objects.get(study=reviewed_study)
    assert staff_client.get(reverse("admin:studies_study_add")).status_code == 403
    assert staff_client.get(reverse("admin:studies_studyreview_add")).status_code == 403
    assert staff_client.post(reverse("admin:studies_study_delete", args=[reviewed_study.pk]), {"post": "yes"}).status_code == 403
    response = staff_client.post(reverse("admin:studies_studyreview_change", args=[review.pk]), {"final_finding": "tumour_finding"})
    assert response.status_code == 403
    review.refresh_from_db()
    assert review.final_finding == "no_tumour"
