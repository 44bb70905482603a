"""Records that are written once and never changed: audit events, reviews."""

from django.db import models


class AppendOnlyError(Exception):
    """Raised on any attempt to change or remove an append-only record."""


class AppendOnlyQuerySet(models.QuerySet):
    # Bulk edits and deletes are refused outright.
    def update(self, **kwargs):
        raise AppendOnlyError(f"{self.model.__name__} records cannot be changed.")

    def delete(self):
        raise AppendOnlyError(f"{self.model.__name__} records cannot be deleted.")


class AppendOnlyModel(models.Model):
    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError(f"{type(self).__name__} records cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError(f"{type(self).__name__} records cannot be deleted.")
