import os
import re

from conan import ConanFile
from conan.errors import ConanInvalidConfiguration
from conan.tools.build import check_min_cppstd
from conan.tools.files import copy, load
from conan.tools.layout import basic_layout
from conan.tools.scm import Version

required_conan_version = ">=2.0"


class TmonConan(ConanFile):
    """Header-only: the package is include/; each component requires only what its
    headers include, and an option left off drops those requirements (and components)."""

    name = "tmon"
    license = "MIT"
    url = "https://github.com/tmon-dev/tmon"       # this recipe lives in the project's repository
    homepage = "https://github.com/tmon-dev/tmon"
    description = "Header-only C++20 live monitoring for ML training: storage, REST/WebSocket server, dashboard"
    topics = ("machine-learning", "monitoring", "dashboard", "header-only")
    package_type = "header-library"
    settings = "os", "arch", "compiler", "build_type"
    options = {
        "with_sqlite": [True, False],     # tmon::sqlite (sqlite_store); tmon::server with with_network
        "with_network": [True, False],    # tmon::client, tmon::server_core: Asio + zlib
        "with_jsonl": [True, False],      # tmon::jsonl (jsonl_store)
    }
    default_options = {"with_sqlite": True, "with_network": True, "with_jsonl": True}
    exports_sources = "include/*", "LICENSE"
    no_copy_source = True

    def set_version(self):
        text = load(self, os.path.join(self.recipe_folder, "include", "tmon", "version.hpp"))
        self.version = ".".join(re.search(rf"#define TMON_VERSION_{k} (\d+)", text).group(1)
                                for k in ("MAJOR", "MINOR", "PATCH"))

    def layout(self):
        basic_layout(self, src_folder=".")

    @property
    def _needs_rapidjson(self):
        return self.options.with_sqlite or self.options.with_network or self.options.with_jsonl

    def requirements(self):
        # Headers include theirs, hence transitive_headers; fmt 9 to 12 are known to work.
        self.requires("fmt/[>=9 <13]", transitive_headers=True)
        if self._needs_rapidjson:
            self.requires("rapidjson/[>=cci.20220822]", transitive_headers=True)
        if self.options.with_sqlite:
            self.requires("sqlite3/[>=3.35 <4]", transitive_headers=True)
        if self.options.with_network:
            self.requires("asio/[>=1.22 <2]", transitive_headers=True)
            self.requires("zlib/[>=1.2.11 <2]", transitive_headers=True)

    def package_id(self):
        self.info.clear()

    @property
    def _min_compiler_versions(self):
        # Those tmon is built and tested with (designated initialisers, concepts, <span>).
        return {"gcc": "12", "clang": "14", "apple-clang": "15"}

    def validate(self):
        check_min_cppstd(self, 20)
        minimum = self._min_compiler_versions.get(str(self.settings.compiler))
        if minimum and Version(self.settings.compiler.version) < minimum:
            raise ConanInvalidConfiguration(f"{self.ref} needs {self.settings.compiler} >= {minimum} (C++20)")

    def package(self):
        copy(self, "*.hpp", os.path.join(self.source_folder, "include"), os.path.join(self.package_folder, "include"))
        copy(self, "LICENSE", self.source_folder, os.path.join(self.package_folder, "licenses"))

    def package_info(self):
        # The same names as tmon's own CMake config: find_package(tmon) + tmon::<component>,
        # and the same pkg-config modules (tmon, tmon-sqlite, ...).
        self.cpp_info.set_property("cmake_file_name", "tmon")
        # The aggregate of the components (tmon::tmon is the light core, as in CMake).
        self.cpp_info.set_property("cmake_target_name", "tmon::all")
        self.cpp_info.set_property("pkg_config_name", "tmon-all")
        self.cpp_info.bindirs = []
        self.cpp_info.libdirs = []

        def component(name, target, pc, requires, defines=()):
            c = self.cpp_info.components[name]
            c.set_property("cmake_target_name", target)
            c.set_property("pkg_config_name", pc)
            c.requires = list(requires)
            c.defines = list(defines)
            c.bindirs = []
            c.libdirs = []
            return c

        core = component("core", "tmon::tmon", "tmon", ["fmt::fmt"])
        if self.settings.os in ("Linux", "FreeBSD"):
            core.system_libs = ["pthread", "dl"]
        net = ["ASIO_STANDALONE", "ASIO_NO_DEPRECATED"]
        if self.options.with_sqlite:
            component("sqlite", "tmon::sqlite", "tmon-sqlite", ["core", "sqlite3::sqlite3", "rapidjson::rapidjson"])
        if self.options.with_jsonl:
            component("jsonl", "tmon::jsonl", "tmon-jsonl", ["core", "rapidjson::rapidjson"])
        if self.options.with_network:
            deps = ["core", "asio::asio", "rapidjson::rapidjson", "zlib::zlib"]
            component("client", "tmon::client", "tmon-client", deps, net)
            component("server_core", "tmon::server_core", "tmon-server-core", deps, net)
        if self.options.with_network and self.options.with_sqlite:
            component("server", "tmon::server", "tmon-server", ["server_core", "sqlite"])
        if self.options.with_network and self.options.with_sqlite and self.options.with_jsonl:
            component("full", "tmon::full", "tmon-full", ["server", "client", "jsonl"])
