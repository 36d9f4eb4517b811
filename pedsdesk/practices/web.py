"""Shared pieces of the staff pages: permission checks, practice scoping, audit.

Every staff view names one permission from ``permissions.PERMISSIONS`` in its
``permission`` attribute; the URL-walk test reads it from there.
"""

from functools import wraps

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Model, Q, QuerySet
from django.forms.models import model_to_dict
from django.http import HttpRequest, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.views.generic import CreateView, DetailView, ListView, UpdateView

from pedsdesk.audit.actions import record_event
from pedsdesk.practices.permissions import has_permission


def requires(permission: str):
    """Decorator for function views: signed in, and holding ``permission``."""

    def decorate(view):
        @wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not has_permission(request.user, permission):
                raise PermissionDenied(f"Your role does not allow {permission}.")
            return view(request, *args, **kwargs)

        wrapped.permission = permission
        return wrapped

    return decorate


class StaffMixin:
    """Signed in, holding ``permission``; objects limited to the user's practice."""

    permission: str = ""
    #: lookup from the model to its practice, e.g. "patient__practice"
    practice_path: str = "practice"
    #: audit every read of an object of this view (patient data)
    audit_reads: bool = True

    @classmethod
    def as_view(cls, **initkwargs):
        view = super().as_view(**initkwargs)
        view.permission = initkwargs.get("permission", cls.permission)
        return view

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not has_permission(request.user, self.permission):
            raise PermissionDenied(f"Your role does not allow {self.permission}.")
        return super().dispatch(request, *args, **kwargs)

    def scoped(self, queryset: QuerySet) -> QuerySet:
        return queryset.filter(**{self.practice_path: self.request.user.practice})

    def get_queryset(self):
        return self.scoped(super().get_queryset())


def changed_fields(before: dict, after: Model) -> list[str]:
    now = model_to_dict(after)
    return sorted(k for k, v in now.items() if before.get(k) != v)


class AuditedReadMixin:
    def get_object(self, queryset=None):
        obj = super().get_object(queryset)
        if self.audit_reads:
            record_event(actor=self.request.user, action="view", obj=obj, request=self.request)
        return obj


class StaffListView(StaffMixin, ListView):
    template_name = "records/list.html"
    paginate_by = 50
    #: (heading, attribute) pairs shown as columns
    columns: list[tuple[str, str]] = []
    search_fields: list[str] = []
    title = ""
    create_url_name = ""
    create_permission = ""

    def get_queryset(self):
        queryset = super().get_queryset()
        q = self.request.GET.get("q", "").strip()
        if q:
            try:
                queryset = self.search(queryset, q)
            except ValueError as problem:  # a query that cannot be searched: say what to type
                messages.error(self.request, str(problem))
                queryset = queryset.none()
        if self.audit_reads and self.request.method == "GET":
            record_event(
                actor=self.request.user,
                action="list",
                object_type=queryset.model._meta.label_lower,
                detail={"search": q} if q else {},
                request=self.request,
            )
        return queryset

    def search(self, queryset, q: str):
        """Rows matching every word of ``q`` in one of ``search_fields``; a ValueError's
        message tells the reader what to type instead."""
        if not self.search_fields:
            return queryset
        condition = Q()
        for term in q.split():
            term_condition = Q()
            for field in self.search_fields:
                term_condition |= Q(**{f"{field}__icontains": term})
            condition &= term_condition
        return queryset.filter(condition)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(
            title=self.title,
            columns=self.columns,
            q=self.request.GET.get("q", ""),
            create_url_name=self.create_url_name
            if self.create_url_name and has_permission(self.request.user, self.create_permission)
            else "",
            rows=[
                {"url": obj.get_absolute_url(), "cells": [_cell(obj, attr) for _, attr in self.columns]}
                for obj in context["object_list"]
            ],
        )
        return context


def _cell(obj, attr: str):
    value = obj
    for part in attr.split("."):
        value = getattr(value, part, "")
        if callable(value):
            value = value()
    return "" if value is None else value


class StaffDetailView(StaffMixin, AuditedReadMixin, DetailView):
    pass


class AuditedFormMixin:
    """Saves the form, its optional inline formset and the audit event in one
    transaction: either all of it is written or none."""

    template_name = "records/form.html"
    title = ""
    formset_class = None
    formset_title = ""
    formset_item = ""

    def get_formset(self, instance):
        if self.formset_class is None:
            return None
        data = self.request.POST if self.request.method == "POST" else None
        return self.formset_class(data, instance=instance, prefix="lines")

    def post(self, request, *args, **kwargs):
        self.object = self.get_object() if isinstance(self, UpdateView) else None
        form = self.get_form()
        formset = self.get_formset(form.instance)
        # The form validates first so the formset's rows can check against it.
        if form.is_valid() and (formset is None or formset.is_valid()):
            return self.form_valid(form, formset)
        return self.render_to_response(self.get_context_data(form=form, formset=formset))

    def form_valid(self, form, formset=None):
        creating = form.instance.pk is None
        before = {} if creating else model_to_dict(type(form.instance).objects.get(pk=form.instance.pk))
        with transaction.atomic():
            self.before_save(form)
            self.object = form.save()
            fields = changed_fields(before, self.object)
            if formset is not None:
                formset.instance = self.object
                formset.save()
                if formset.has_changed():
                    fields.append(self.formset_title or "lines")
            record_event(
                actor=self.request.user,
                action="create" if creating else "update",
                obj=self.object,
                detail={"fields": fields},
                request=self.request,
            )
        return HttpResponseRedirect(self.get_success_url())

    def before_save(self, form) -> None:
        """Set fields the form does not show (practice, parent record)."""

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs["practice"] = self.request.user.practice
        return kwargs

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        if "formset" not in context and self.formset_class is not None:
            context["formset"] = self.get_formset(getattr(self, "object", None) or self.model())
        context.update(formset_title=self.formset_title, formset_item=self.formset_item)
        context["title"] = self.title or (
            f"Edit {self.object}" if getattr(self, "object", None) else f"New {self.model._meta.verbose_name}"
        )
        context["cancel_url"] = self.request.GET.get("next") or (
            self.object.get_absolute_url() if getattr(self, "object", None) else ""
        )
        return context

    def get_success_url(self):
        return self.object.get_absolute_url()


class StaffCreateView(StaffMixin, AuditedFormMixin, CreateView):
    pass


class StaffUpdateView(StaffMixin, AuditedFormMixin, UpdateView):
    pass


def practice_object(request: HttpRequest, model: type[Model], pk, practice_path: str = "practice") -> Model:
    """Fetch ``model`` ``pk`` only if it belongs to the user's practice, else 404."""
    return get_object_or_404(model, pk=pk, **{practice_path: request.user.practice})
