"""People and organisations (SPEC §1): one login model for staff and customers."""

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

LANGUAGE_CHOICES = settings.LANGUAGES


class OrganisationQuerySet(models.QuerySet):
    def visible_to(self, user) -> "OrganisationQuerySet":
        """Staff see every organisation; a customer only their own."""
        if user is None or not user.is_authenticated or not user.is_active:
            return self.none()
        if user.is_staff:
            return self
        return self.filter(pk=user.organisation_id) if user.organisation_id else self.none()


class Organisation(models.Model):
    """A customer company. Its email domains place senders of new mail in it."""

    name = models.CharField(_("name"), max_length=200, unique=True)
    country = models.CharField(
        _("country"), max_length=2, blank=True, help_text=_("ISO 3166 code, e.g. GB")
    )
    timezone = models.CharField(_("time zone"), max_length=64, default="Europe/London")
    language = models.CharField(_("language"), max_length=8, choices=LANGUAGE_CHOICES, default="en")
    account_manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("account manager"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="managed_organisations",
        limit_choices_to={"is_staff": True},
    )
    project_lead = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("project lead"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="led_organisations",
        limit_choices_to={"is_staff": True},
    )
    notes = models.TextField(_("notes"), blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    objects = OrganisationQuerySet.as_manager()

    class Meta:
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class EmailDomain(models.Model):
    """A mail domain owned by one organisation (``example.co.uk``)."""

    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.CASCADE,
        related_name="email_domains",
        verbose_name=_("organisation"),
    )
    domain = models.CharField(_("domain"), max_length=253, unique=True)

    class Meta:
        verbose_name = _("email domain")
        verbose_name_plural = _("email domains")
        ordering = ["domain"]

    def __str__(self) -> str:
        return self.domain

    def save(self, *args, **kwargs):
        self.domain = self.domain.strip().lower()
        super().save(*args, **kwargs)


class CustomerRole(models.TextChoices):
    END_USER = "end_user", _("End user")
    LOGGER = "logger", _("Designated logger")
    CUSTOMER_ADMIN = "customer_admin", _("Customer administrator")


class StaffRole(models.TextChoices):
    SERVICE_REPRESENTATIVE = "service_representative", _("Service representative")
    CRM_SPECIALIST = "crm_specialist", _("CRM specialist")
    SOFTWARE_ENGINEER = "software_engineer", _("Software engineer")
    SUPPORT_MANAGER = "support_manager", _("Support manager")
    IT_ADMINISTRATOR = "it_administrator", _("IT administrator")


class UserQuerySet(models.QuerySet):
    def visible_to(self, user) -> "UserQuerySet":
        """The people ``user`` may see in the directory: staff everyone; a designated logger
        or customer administrator the contacts of their organisation; an end user
        themselves; anyone else nobody. Customers never see the desk's staff here."""
        if user is None or not user.is_authenticated or not user.is_active:
            return self.none()
        if user.is_staff:
            return self
        if user.sees_whole_organisation and user.organisation_id:
            return self.filter(is_staff=False, organisation_id=user.organisation_id)
        return self.filter(pk=user.pk)


class UserManager(BaseUserManager.from_queryset(UserQuerySet)):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **fields):
        if not email:
            raise ValueError("An email address is required")
        user = self.model(email=self.normalize_email(email).lower(), **fields)
        user.set_password(password)  # None gives an unusable password: a contact who never logs in
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **fields):
        fields.setdefault("staff_role", StaffRole.IT_ADMINISTRATOR)
        fields.update(is_staff=True, is_superuser=True)
        return self.create_user(email, password, **fields)


class User(AbstractBaseUser, PermissionsMixin):
    """Anyone who logs in or writes to the desk.

    Staff have ``is_staff`` and a ``staff_role``; customers (contacts) have a
    ``customer_role`` and usually an ``organisation``. A contact created from an email
    has an unusable password until they are invited to the portal.
    """

    email = models.EmailField(_("email address"), unique=True)
    full_name = models.CharField(_("full name"), max_length=200, blank=True)
    phone = models.CharField(_("phone"), max_length=50, blank=True)
    language = models.CharField(_("language"), max_length=8, choices=LANGUAGE_CHOICES, default="en")
    timezone = models.CharField(_("time zone"), max_length=64, default="Europe/London")
    organisation = models.ForeignKey(
        Organisation,
        verbose_name=_("organisation"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="contacts",
    )
    customer_role = models.CharField(
        _("customer role"), max_length=20, choices=CustomerRole.choices, blank=True
    )
    staff_role = models.CharField(
        _("staff role"), max_length=30, choices=StaffRole.choices, blank=True
    )
    is_staff = models.BooleanField(_("staff"), default=False, help_text=_("Works on the desk."))
    is_active = models.BooleanField(_("active"), default=True)
    date_joined = models.DateTimeField(_("joined"), auto_now_add=True)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        ordering = ["email"]
        constraints = [
            models.CheckConstraint(
                name="staff_have_no_customer_role",
                condition=Q(is_staff=False) | Q(customer_role="", organisation__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.full_name} <{self.email}>" if self.full_name else self.email

    @property
    def display_name(self) -> str:
        return self.full_name or self.email

    @property
    def sees_whole_organisation(self) -> bool:
        """Loggers and customer administrators see every ticket of their organisation."""
        return self.customer_role in (CustomerRole.LOGGER, CustomerRole.CUSTOMER_ADMIN)


class Contact(User):
    """Customers only: the admin's list of contacts."""

    class Meta:
        proxy = True
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")


class Staff(User):
    """Staff only: the admin's list of agents and managers."""

    class Meta:
        proxy = True
        verbose_name = _("staff member")
        verbose_name_plural = _("staff")


class SupportLevel(models.TextChoices):
    L1 = "L1", _("Level 1 — first line")
    L2 = "L2", _("Level 2 — CRM specialists")
    L3 = "L3", _("Level 3 — development")


class Group(models.Model):
    """A queue of staff at one support level."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    level = models.CharField(_("support level"), max_length=2, choices=SupportLevel.choices)
    email = models.EmailField(_("email"), blank=True)
    lead = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("lead"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="led_groups",
        limit_choices_to={"is_staff": True},
    )
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("members"),
        blank=True,
        related_name="support_groups",
        limit_choices_to={"is_staff": True},
    )
    response_target = models.DurationField(
        _("internal response within"),
        null=True,
        blank=True,
        help_text=_(
            "The group's operational level agreement: business time, on the ticket's SLA "
            "calendar, in which one of its members acts on a ticket escalated to it."
        ),
    )
    is_default_intake = models.BooleanField(
        _("receives new tickets"),
        default=False,
        help_text=_("New tickets are routed here unless a rule says otherwise (one group only)."),
    )

    class Meta:
        verbose_name = _("group")
        verbose_name_plural = _("groups")
        ordering = ["level", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_default_intake"],
                condition=Q(is_default_intake=True),
                name="one_default_intake_group",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.level})"


class VendorKind(models.TextChoices):
    SOFTWARE_OWNER = "software_owner", _("Software owner")
    INTEGRATOR = "integrator", _("Integrator")
    HOSTING_PROVIDER = "hosting_provider", _("Hosting provider")
    OTHER = "other", _("Other third party")


class Vendor(models.Model):
    """An outside party a case can be escalated to."""

    name = models.CharField(_("name"), max_length=200, unique=True)
    kind = models.CharField(_("kind"), max_length=20, choices=VendorKind.choices)
    email = models.EmailField(_("email"), blank=True)
    phone = models.CharField(_("phone"), max_length=50, blank=True)
    website = models.URLField(_("website"), blank=True)
    notes = models.TextField(_("notes"), blank=True)

    class Meta:
        verbose_name = _("vendor")
        verbose_name_plural = _("vendors")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name
