"""The onboarding config file (``firstmile.yaml``): typed, versioned, checked on load.

``docs/config.md`` is the reference for the file format.
"""

from firstmile.config.check import CheckReport, check_file, default_config_path
from firstmile.config.loader import load_config, parse_config
from firstmile.config.model import (
    CONFIG_FILE_NAME,
    SCHEMA_VERSION,
    OnboardingConfig,
    SegmentDefinition,
    ThresholdSegment,
)
from firstmile.config.problems import ConfigFileError, ConfigProblem

__all__ = [
    "CONFIG_FILE_NAME",
    "SCHEMA_VERSION",
    "CheckReport",
    "ConfigFileError",
    "ConfigProblem",
    "OnboardingConfig",
    "SegmentDefinition",
    "ThresholdSegment",
    "check_file",
    "default_config_path",
    "load_config",
    "parse_config",
]
