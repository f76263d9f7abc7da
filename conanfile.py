import re
from pathlib import Path

from conan import ConanFile
from conan.tools.files import copy


class TmonConan(ConanFile):
    """Header-only: the package is include/ plus the dependencies each policy needs."""

    name = "tmon"
    license = "MIT"
    description = "Header-only C++20 live monitoring for ML training: storage, REST/WS server, dashboard"
    topics = ("machine-learning", "monitoring", "dashboard", "header-only")
    package_type = "header-library"
    settings = "os", "arch", "compiler", "build_type"
    exports_sources = "include/*", "LICENSE"
    no_copy_source = True

    def set_version(self):
        text = Path(self.recipe_folder, "include", "tmon", "version.hpp").read_text()
        parts = [re.search(rf"TMON_VERSION_{k} (\d+)", text).group(1) for k in ("MAJOR", "MINOR", "PATCH")]
        self.version = ".".join(parts)

    def requirements(self):
        self.requires("fmt/[>=9 <12]")
        self.requires("sqlite3/[>=3.35]")
        self.requires("zlib/[>=1.2]")
        self.requires("asio/[>=1.22]")
        self.requires("rapidjson/cci.20230929")

    def package(self):
        copy(self, "*.hpp", Path(self.source_folder, "include"), Path(self.package_folder, "include"))
        copy(self, "LICENSE", self.source_folder, Path(self.package_folder, "licenses"))

    def package_info(self):
        self.cpp_info.bindirs = []
        self.cpp_info.libdirs = []
        self.cpp_info.defines = ["ASIO_STANDALONE", "ASIO_NO_DEPRECATED"]
        if self.settings.os == "Linux":
            self.cpp_info.system_libs = ["pthread", "dl"]
        self.cpp_info.set_property("cmake_file_name", "tmon")
        self.cpp_info.set_property("cmake_target_name", "tmon::full")
