# frozen_string_literal: true

module Oidc
  # Version of this binding (the Ruby side).
  VERSION = "0.2.0"

  # The liboidc C ABI this binding was written against, as (major << 16) | (minor << 8) | patch.
  # A loaded library fits when it has the same major version (and, while major is 0, the same
  # minor: 0.x minors may break the ABI, exactly as the SONAME liboidc.so.0.2 says) and is at
  # least this patch level.
  LIB_VERSION_REQUIRED = (0 << 16) | (2 << 8) | 0

  # The SONAME of the ABI generation this binding speaks.
  LIB_SONAME = "liboidc.so.0.2"

  def self.version_string(number)
    format("%d.%d.%d", (number >> 16) & 0xff, (number >> 8) & 0xff, number & 0xff)
  end

  # True when a library reporting `have` can serve a binding that needs `need`.
  def self.lib_version_fits?(have, need = LIB_VERSION_REQUIRED)
    hmaj, hmin, hpat = (have >> 16) & 0xff, (have >> 8) & 0xff, have & 0xff
    nmaj, nmin, npat = (need >> 16) & 0xff, (need >> 8) & 0xff, need & 0xff
    return false unless hmaj == nmaj
    if nmaj.zero?
      hmin == nmin && hpat >= npat
    else
      hmin > nmin || (hmin == nmin && hpat >= npat)
    end
  end
end
