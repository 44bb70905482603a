from django.contrib.staticfiles.storage import staticfiles_storage
from django.core.management import call_command
from django.test import override_settings

PRODUCTION_STATIC_STORAGE = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}


def test_collectstatic_builds_the_manifest_the_portal_serves(tmp_path):
    with override_settings(STATIC_ROOT=tmp_path, STORAGES=PRODUCTION_STATIC_STORAGE):
        call_command("collectstatic", interactive=False, verbosity=0)
        hashed = staticfiles_storage.url("vendor/bootstrap-5.3.9/bootstrap.min.css")
    assert hashed != "/static/vendor/bootstrap-5.3.9/bootstrap.min.css"  # cache-busting name
    assert (tmp_path / "vendor" / "bootstrap-5.3.9" / "bootstrap.min.css.gz").exists()
    assert (tmp_path / "staticfiles.json").exists()
