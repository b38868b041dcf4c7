"""Which attributes checkov checks, per AWS resource type (Terraform and CloudFormation).

Run with the checkov that `.ci/run` installs (its virtualenv):
    python tests/inputs/checkov/extract.py > tests/inputs/checkov/attributes.json
It reads checkov's own resource check registries: each check's id, resource
types and, for value checks, the inspected key (`get_inspected_key`). Checks that
decide in code have no inspected key (`attribute: null`); the settings table
(src/audit/settings.rs) lists each of those by ID. The test
`settings_table_covers_every_rendered_resource` reads the JSON this prints.
"""
import datetime
import json

from checkov.version import version
from checkov.terraform.checks.resource.registry import resource_registry as tf
from checkov.cloudformation.checks.resource.registry import cfn_registry as cfn


def rows(registry, framework, prefix):
    out = []
    for rtype, checks in sorted(registry.checks.items()):
        if not rtype.startswith(prefix):
            continue
        for c in sorted(checks, key=lambda c: c.id):
            try:
                key = c.get_inspected_key() or None
            except Exception:
                key = None
            out.append([framework, rtype, c.id, key])
    return out


checks = rows(tf, "terraform", "aws_") + rows(cfn, "cloudformation", "AWS::")
print("{")
print(f'"source": "checkov {version} resource check registries (get_inspected_key); tests/inputs/checkov/extract.py",')
print(f'"checkov_version": "{version}",')
print(f'"generated": "{datetime.date.today().isoformat()}",')
print('"checks": [')
print(",\n".join(json.dumps(r) for r in checks))
print("]}")
