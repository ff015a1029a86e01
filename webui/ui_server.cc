#include "webui/ui_server.h"

#include <httplib.h>

#include <chrono>
#include <utility>

namespace tp::webui {
namespace {

using nlohmann::json;

constexpr std::chrono::seconds kKeepAliveEvery{15};
constexpr size_t kServerThreads = 16;  // event streams (at most 4) hold one each

constexpr const char* kContentSecurityPolicy =
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' "
    "data:; font-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
    "form-action 'self'";

void AddSecurityHeaders(httplib::Response& response) {
  response.set_header("Cache-Control", "no-store");
  response.set_header("X-Content-Type-Options", "nosniff");
  response.set_header("X-Frame-Options", "DENY");
  response.set_header("Referrer-Policy", "no-referrer");
  response.set_header("Content-Security-Policy", kContentSecurityPolicy);
}

std::optional<std::string> Header(const httplib::Request& request, const char* name) {
  if (!request.has_header(name)) return std::nullopt;
  return request.get_header_value(name);
}

RequestFacts FactsOf(const httplib::Request& request) {
  return RequestFacts{
      .method = request.method,
      .path = request.path,
      .host = Header(request, "Host"),
      .origin = Header(request, "Origin"),
      .cookie = Header(request, "Cookie"),
      .query_token = request.has_param("token")
                         ? std::optional<std::string>(request.get_param_value("token"))
                         : std::nullopt,
      .content_type = Header(request, "Content-Type"),
  };
}

void Answer(httplib::Response& response, const UiReply& reply) {
  response.status = reply.status;
  response.set_content(reply.body.dump(-1, ' ', false, json::error_handler_t::replace) + "\n",
                       "application/json");
}

std::string ContextParameter(const httplib::Request& request) {
  return request.has_param("context") ? request.get_param_value("context")
                                      : std::string(kDefaultContext);
}

bool IsApiPath(const std::string& path) { return path.rfind("/api/", 0) == 0; }

// A decoded form's driver call, or 400 with the decoder's sentence.
template <typename Form, typename Call>
UiReply WithForm(const Decoded<Form>& decoded, Call call) {
  if (!decoded.form) return ErrorReply(400, decoded.error);
  return call(*decoded.form);
}

}  // namespace

UiReply ErrorReply(int status, std::string sentence) {
  return UiReply{status, json{{"error", std::move(sentence)}}};
}

UiServer::UiServer(UiDriver& driver, EventHub& events, AssetTable assets)
    : driver_(driver),
      events_(events),
      assets_(assets),
      http_(std::make_unique<httplib::Server>()) {
  http_->new_task_queue = [] { return new httplib::ThreadPool(kServerThreads); };
  http_->set_payload_max_length(kMaxBodyBytes);
  // A connection that sends no request for 5 s is closed, so idle ones cannot hold the workers.
  http_->set_read_timeout(5, 0);
  http_->set_keep_alive_timeout(5);
  AddRoutes();
}

UiServer::~UiServer() { Stop(); }

bool UiServer::Listen(uint16_t port, std::string token, std::string& error) {
  int bound = port == 0 ? http_->bind_to_any_port("127.0.0.1")
                        : (http_->bind_to_port("127.0.0.1", port) ? port : -1);
  if (bound <= 0) {
    error = "cannot listen on 127.0.0.1:" + std::to_string(port) +
            " (is another telepresence ui running? give another with --port N, or --port 0 for "
            "any free port)";
    return false;
  }
  port_ = static_cast<uint16_t>(bound);
  policy_.emplace(port_, std::move(token));
  return true;
}

void UiServer::Start() {
  serve_thread_ = std::thread([this] { http_->listen_after_bind(); });
}

void UiServer::Stop() {
  events_.CloseAll();
  if (http_->is_running() || serve_thread_.joinable()) http_->stop();
  if (serve_thread_.joinable()) serve_thread_.join();
}

void UiServer::AddRoutes() {
  httplib::Server& http = *http_;
  http.set_pre_routing_handler(
      [this](const httplib::Request& request, httplib::Response& response) {
        AddSecurityHeaders(response);
        const Access access = policy_ ? policy_->Check(FactsOf(request)) : Access::kNoSecret;
        if (access == Access::kAllow) return httplib::Server::HandlerResponse::Unhandled;
        response.status = AccessPolicy::HttpStatus(access);
        if (access == Access::kSetCookie) {
          response.set_header("Set-Cookie", policy_->SessionCookieHeader());
          response.set_header("Location", "/");
        } else if (IsApiPath(request.path)) {
          Answer(response, ErrorReply(response.status, AccessPolicy::Explain(access)));
        } else {
          response.set_content(AccessPolicy::Explain(access) + "\n", "text/plain; charset=utf-8");
        }
        return httplib::Server::HandlerResponse::Handled;
      });
  http.set_exception_handler(
      [](const httplib::Request&, httplib::Response& response, std::exception_ptr failure) {
        std::string what = "unknown failure";
        try {
          std::rethrow_exception(failure);
        } catch (const std::exception& exception) {
          what = exception.what();
        } catch (...) {
        }
        AddSecurityHeaders(response);
        Answer(response, ErrorReply(500, "the UI server failed: " + what));
      });

  http.Get("/api/contexts", [this](const httplib::Request&, httplib::Response& response) {
    Answer(response, driver_.Contexts());
  });
  http.Get("/api/status", [this](const httplib::Request& request, httplib::Response& response) {
    Answer(response, driver_.Status(ContextParameter(request)));
  });
  http.Post("/api/connect", [this](const httplib::Request& request, httplib::Response& response) {
    Answer(response, WithForm(DecodeContextForm(request.body), [&](const ContextForm& form) {
             return driver_.Connect(form.context);
           }));
  });
  http.Post("/api/quit", [this](const httplib::Request& request, httplib::Response& response) {
    Answer(response, WithForm(DecodeContextForm(request.body),
                              [&](const ContextForm& form) { return driver_.Quit(form.context); }));
  });
  http.Get("/api/workloads", [this](const httplib::Request& request, httplib::Response& response) {
    Answer(response, driver_.Workloads(ContextParameter(request)));
  });
  http.Get("/api/images", [this](const httplib::Request&, httplib::Response& response) {
    Answer(response, driver_.Images());
  });
  http.Post(
      "/api/engagements", [this](const httplib::Request& request, httplib::Response& response) {
        Answer(response, WithForm(DecodeEngageForm(request.body),
                                  [&](const EngageForm& form) { return driver_.Engage(form); }));
      });
  http.Get("/api/engagements",
           [this](const httplib::Request& request, httplib::Response& response) {
             Answer(response, driver_.Engagements(ContextParameter(request)));
           });
  http.Delete(R"(/api/engagements/([^/]+))",
              [this](const httplib::Request& request, httplib::Response& response) {
                Answer(response, driver_.Leave(ContextParameter(request), request.matches[1]));
              });
  http.Post("/api/docker-run", [this](const httplib::Request& request,
                                      httplib::Response& response) {
    Answer(response, WithForm(DecodeDockerRunForm(request.body),
                              [&](const DockerRunForm& form) { return driver_.DockerRun(form); }));
  });
  http.Delete(R"(/api/containers/([^/]+))",
              [this](const httplib::Request& request, httplib::Response& response) {
                Answer(response, driver_.StopContainer(request.matches[1]));
              });
  http.Get("/api/events", [this](const httplib::Request&, httplib::Response& response) {
    std::shared_ptr<EventSubscription> subscription = events_.Subscribe();
    response.set_chunked_content_provider(
        "text/event-stream", [subscription](size_t, httplib::DataSink& sink) {
          std::optional<ServerEvent> event = subscription->Next(
              std::chrono::duration_cast<std::chrono::milliseconds>(kKeepAliveEvery));
          if (subscription->closed()) {
            sink.done();
            return false;
          }
          const std::string text = event ? FormatServerEvent(*event) : ": keep-alive\n\n";
          return sink.write(text.data(), text.size());
        });
  });
  http.Get(R"(/api/.*)", [](const httplib::Request& request, httplib::Response& response) {
    Answer(response, ErrorReply(404, "no such API route: " + request.path));
  });
  http.Get(R"(/.*)", [this](const httplib::Request& request, httplib::Response& response) {
    const Asset* asset = FindAsset(assets_, request.path);
    if (!asset) {
      response.status = 404;
      response.set_content("not found\n", "text/plain; charset=utf-8");
      return;
    }
    response.set_content(std::string(asset->bytes),
                         std::string(ContentTypeOf(asset->path)).c_str());
  });
}

}  // namespace tp::webui
