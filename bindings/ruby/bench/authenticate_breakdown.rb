# frozen_string_literal: true

# Where the time of one Client#authenticate goes (a repeated RS256 token, verified-token cache
# hit): the pieces timed alone, each 200,000 times per pass, three passes, CPU time of this
# thread. Complements bench/authenticate.rb; see BENCHMARKS.md.
#
#   OIDC_LIB=/path/to/liboidc.so ruby -Ilib bench/authenticate_breakdown.rb

$LOAD_PATH.unshift(File.expand_path("../lib", __dir__))
require "oidc"
require "jwt"
require "openssl"

key = OpenSSL::PKey::RSA.generate(2048)
jwk = JWT::JWK.new(key, "k").export.merge(alg: "RS256", use: "sig")
now = Time.now.to_i
tok = JWT.encode({ iss: "https://i.test", aud: "a", sub: "u", scope: "read", iat: now, exp: now + 3600 },
                 key, "RS256", { kid: "k", typ: "at+jwt" })
url = "https://api.test/items?x=1"
header = "Bearer #{tok}"
c = Oidc::Client.new(issuer: "https://i.test", audiences: "a", jwks_json: { keys: [jwk] })
raise "not allowed" unless c.authenticate(method: "GET", url: url, authorization: header).allowed?

N = 200_000
def t(label)
  c0 = Process.clock_gettime(Process::CLOCK_THREAD_CPUTIME_ID)
  N.times { yield }
  printf("%-44s %8.2f us\n", label, (Process.clock_gettime(Process::CLOCK_THREAD_CPUTIME_ID) - c0) * 1e6 / N)
end

Oidc::Native.attach_function :bench_auth_gvl_held, :oidc_authenticate, %i[pointer pointer pointer pointer], :uint32
Oidc::Native.attach_function :bench_validate_gvl_held, :oidc_validate,
                             %i[pointer pointer size_t pointer pointer pointer], :uint32
n = Oidc::Native
req, out, err, len = Oidc::Client.authn_buffers
handle = c.instance_variable_get(:@handle)
raw = handle.instance_variable_get(:@ptr)
fill = lambda do
  n.oidc_http_request_reset(req)
  n.oidc_http_request_add_header(req, "Authorization", 13, header, header.bytesize, err)
  n.oidc_http_request_set_method(req, "GET", 3, err)
  n.oidc_http_request_set_url(req, url, url.bytesize, err)
end
fill.()
puts "liboidc #{Oidc.library_version}, ruby #{RUBY_VERSION}, ffi #{FFI::VERSION}"
3.times do |pass|
  puts "pass #{pass + 1}"
  t("fill the request (reset + 3 setters)") { fill.() }
  t("oidc_authenticate, GVL held, + decision_free") { n.bench_auth_gvl_held(raw, req, out, err); n.oidc_decision_free(out.read_pointer) }
  t("oidc_authenticate, blocking, + decision_free") { n.oidc_authenticate(raw, req, out, err); n.oidc_decision_free(out.read_pointer) }
  n.bench_auth_gvl_held(raw, req, out, err)
  d = out.read_pointer
  t("Decision.from_native (4 getters, copies)") { Oidc::Decision.from_native(d, len) }
  n.oidc_decision_free(d)
  t("Handle#use (close-safety counter)") { handle.use {} }
  t("client.authenticate (all of it)") { c.authenticate(method: "GET", url: url, authorization: header) }
  t("oidc_validate, GVL held, + string_free") do
    n.bench_validate_gvl_held(raw, tok, tok.bytesize, out, len, err)
    n.oidc_string_free(out.read_pointer)
  end
  t("client.validate (all of it)") { c.validate(tok) }
end
puts "load average: #{File.read('/proc/loadavg').split[0, 3].join(' ')}" if File.exist?("/proc/loadavg")
