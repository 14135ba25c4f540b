# frozen_string_literal: true

# A scripted browser for the test IdP (tests/idp), shared by the tests and test.sh's README
# example driver; needs no minitest.
require "json"
require "net/http"

module TestSupport
  # A scripted user agent for the test IdP: one cookie jar, redirects followed by hand, the
  # development login and consent pages answered with form posts.
  class Browser
    def initialize(issuer, ca_file)
      @issuer = issuer
      @ca_file = ca_file
      @cookies = {}
    end

    def send_req(method, url, form = nil)
      uri = URI(url)
      req = method == :get ? Net::HTTP::Get.new(uri) : Net::HTTP::Post.new(uri)
      req["Cookie"] = @cookies.map { |k, v| "#{k}=#{v}" }.join("; ") unless @cookies.empty?
      req.set_form_data(form) if form
      res = Net::HTTP.start(uri.host, uri.port, use_ssl: uri.scheme == "https", ca_file: @ca_file) { |h| h.request(req) }
      Array(res.get_fields("set-cookie")).each do |c|
        name, value = c.split(";", 2).first.split("=", 2)
        expired = value.to_s.empty? || c.downcase.include?("expires=thu, 01 jan 1970")
        expired ? @cookies.delete(name.strip) : @cookies[name.strip] = value.strip
      end
      res
    end

    def absolute(loc)
      loc.start_with?("/") ? "#{@issuer}#{loc}" : loc
    end

    # Follow an authorization URL through login (as `login`) and consent; returns the redirect
    # leaving the IdP (the redirect URI with code/error, state, iss). With page_ok, a page of
    # the IdP that does not redirect ends the flow too (device approval): its URL is returned.
    def authorize(url, login: "user-1", page_ok: false)
      12.times do
        return url unless url.start_with?(@issuer)

        res = if url.include?("/interaction/")
                html = send_req(:get, url).body
                if html.include?('name="prompt" value="login"')
                  send_req(:post, url, { prompt: "login", login: login, password: "any" })
                elsif html.include?('name="prompt" value="consent"')
                  send_req(:post, url, { prompt: "consent" })
                else
                  raise "unexpected interaction page: #{html[0, 300]}"
                end
              else
                send_req(:get, url)
              end
        @last_body = res.body
        return url if page_ok && res.code == "200" && !res["location"]

        loc = res["location"] or raise "no redirect from #{url.split('?').first}: #{res.code} #{res.body}"
        url = absolute(loc)
      end
      raise "too many redirects in the authorization flow"
    end

    # Approve a device authorization as `login`: enter the user code at /device, confirm, log
    # in and consent (tests/idp/README.md, "Scripting a device approval").
    def approve_device(user_code, login: "user-1")
      xsrf = lambda do |html|
        html[/name="xsrf" value="([^"]+)"/, 1] or raise "no xsrf field: #{html[0, 300]}"
      end
      x = xsrf.call(send_req(:get, "#{@issuer}/device").body)
      x = xsrf.call(send_req(:post, "#{@issuer}/device", { xsrf: x, user_code: user_code }).body)
      res = send_req(:post, "#{@issuer}/device", { xsrf: x, user_code: user_code, confirm: "yes" })
      loc = res["location"] or raise "device confirmation did not redirect: #{res.code} #{res.body[0, 300]}"
      authorize(absolute(loc), login: login, page_ok: true)
      raise "device approval did not succeed: #{@last_body.to_s[0, 300]}" unless @last_body.to_s.include?("Sign-in Success")

      true
    end
  end
end
