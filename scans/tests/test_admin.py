import pytest
from django.urls import reverse

from conftest import PASSWORD
from scans.tests.factories import make_done_scan

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client, django_user_model):
    client.force_login(django_user_model.objects.create_superuser("root", "root@example.org", PASSWORD))
    return client


def test_staff_list_and_open_scans_and_predictions(staff_client, alice):
    scan = make_done_scan(alice, patient_reference="STUDY-1")
    assert staff_client.get(reverse("admin:scans_scan_changelist"), {"q": "STUDY-1"}).status_code == 200
    assert staff_client.get(reverse("admin:scans_scan_change", args=[scan.pk])).status_code == 200
    prediction = scan.predictions.get()
    assert staff_client.get(reverse("admin:scans_prediction_change", args=[prediction.pk])).status_code == 200
    assert staff_client.get(reverse("admin:reviews_review_changelist")).status_code == 200


def test_staff_cannot_add_scans_or_change_predictions(staff_client, alice):
    prediction = make_done_scan(alice).predictions.get()
    assert staff_client.get(reverse("admin:scans_scan_add")).status_code == 403
    response = staff_client.post(reverse("admin:scans_prediction_change", args=[prediction.pk]), {"label": "notumor"})
    assert response.status_code == 403
    prediction.refresh_from_db()
    assert prediction.label == "glioma"
