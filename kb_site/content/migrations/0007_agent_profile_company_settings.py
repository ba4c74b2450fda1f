"""Agents' 工号 (AgentProfile) and the site's company name (CompanySettings): phrasings speak them as {工号}
and {公司名称} without a procedure step asking for them."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("content", "0006_role_delete_permissions"),
        ("wagtailcore", "0098_apitoken"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="AgentProfile",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "employee_number",
                    models.CharField(
                        help_text="坐席的工号，话术中的 {工号} 会自动填入，例如“我是 1001 号客服”",
                        max_length=20,
                        verbose_name="工号",
                    ),
                ),
                (
                    "user",
                    models.OneToOneField(
                        help_text="这个工号属于哪个坐席的账号",
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="agent_profile",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="用户",
                    ),
                ),
            ],
            options={
                "verbose_name": "坐席工号",
                "verbose_name_plural": "坐席工号",
            },
        ),
        migrations.CreateModel(
            name="CompanySettings",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "company_name",
                    models.CharField(
                        blank=True,
                        help_text="话术中的 {公司名称} 会自动填入，例如热线接听开场“您好！{公司名称}。”",
                        max_length=60,
                        verbose_name="公司名称",
                    ),
                ),
                (
                    "site",
                    models.OneToOneField(
                        editable=False, on_delete=django.db.models.deletion.CASCADE, to="wagtailcore.site"
                    ),
                ),
            ],
            options={
                "verbose_name": "公司信息",
                "verbose_name_plural": "公司信息",
            },
        ),
    ]
