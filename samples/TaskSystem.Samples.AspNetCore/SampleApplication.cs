using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using TaskSystem.Samples.AspNetCore.Reports;

namespace TaskSystem.Samples.AspNetCore;

/// <summary>
/// The app: its own endpoint that enqueues (<c>POST /reports</c>), its own handler (<see cref="GenerateReportHandler"/>),
/// its own sign-in (a cookie, role <c>operator</c>), and TaskSystem's API at <c>/api/tasks</c> and dashboard at
/// <c>/jobs/</c>, both for operators only. Tasks live in <c>data/tasks.db</c> under the content root.
/// </summary>
public static class SampleApplication
{
    /// <summary>The authorization policy that guards TaskSystem's endpoints.</summary>
    public const string OperatorsPolicy = "operators";

    /// <summary>Builds the app; tests pass settings (<c>--TaskSystem:ConnectionString</c>, <c>--urls</c>) as arguments.</summary>
    public static WebApplication Create(string[] args, Action<WebApplicationBuilder>? customize = null)
    {
        var builder = WebApplication.CreateBuilder(args);
        builder.Services
            .AddTaskSystem(builder.Configuration.GetSection("TaskSystem"))
            .AddJsonTypeInfoResolver(SampleJson.Default)
            .AddHandler<GenerateReportHandler>(report => report.MaxAttempts = 2)
            .AddAspNetCore();
        builder.Services.AddHealthChecks().AddTaskSystem("ready");

        // The app's own authentication: a cookie set by its sign-in form. Whoever signs in with the operator
        // password (Sample:OperatorPassword) is an operator.
        builder.Services.AddAuthentication(CookieAuthenticationDefaults.AuthenticationScheme)
            .AddCookie(cookie =>
            {
                cookie.LoginPath = "/login";
                cookie.Cookie.SameSite = SameSiteMode.Strict;
            });
        builder.Services.AddAuthorization(authorization =>
            authorization.AddPolicy(OperatorsPolicy, policy => policy.RequireRole("operator")));
        customize?.Invoke(builder);

        var app = builder.Build();
        app.UseAuthentication();
        app.UseAuthorization();

        app.MapGet("/login", () => Results.Content(LoginPage, "text/html"));
        app.MapPost("/login", SignInAsync);
        app.MapReports();
        app.MapTaskSystemApi("/api/tasks", api => api.AuthorizationPolicy = OperatorsPolicy);
        app.MapTaskSystemDashboard("/jobs", dashboard =>
        {
            dashboard.AuthorizationPolicy = OperatorsPolicy;
            dashboard.ApiPath = "/api/tasks";
        });
        app.MapHealthChecks("/healthz");
        return app;
    }

    private static async Task<IResult> SignInAsync(HttpContext context, IConfiguration configuration)
    {
        var form = await context.Request.ReadFormAsync();
        var expected = configuration["Sample:OperatorPassword"];
        if (string.IsNullOrEmpty(expected) || form["password"] != expected || string.IsNullOrWhiteSpace(form["name"]))
        {
            return Results.Content(LoginPage.Replace("<!--error-->", "<p role=\"alert\">Wrong name or password.</p>", StringComparison.Ordinal), "text/html", statusCode: 401);
        }

        var identity = new ClaimsIdentity(
            [new Claim(ClaimTypes.Name, form["name"].ToString()), new Claim(ClaimTypes.Role, "operator")],
            CookieAuthenticationDefaults.AuthenticationScheme);
        await context.SignInAsync(new ClaimsPrincipal(identity));
        var returnUrl = context.Request.Query["ReturnUrl"].ToString();
        return Results.LocalRedirect(returnUrl.StartsWith('/') ? returnUrl : "/jobs/");
    }

    private const string LoginPage = """
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><title>Sign in</title></head>
        <body>
          <h1>Sign in</h1>
          <!--error-->
          <form method="post">
            <label>Name <input name="name" autocomplete="username"></label>
            <label>Password <input name="password" type="password" autocomplete="current-password"></label>
            <button type="submit">Sign in</button>
          </form>
        </body></html>
        """;
}
