# syntax=docker/dockerfile:1
# The TaskSystem server: the SDK image builds, the ASP.NET runtime image runs it as a non-root user.
# The publish command below is the one CI runs (.ci/run), so a broken publish fails CI before it breaks this image.

FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /source
COPY global.json Directory.Build.props Directory.Packages.props BannedSymbols.txt .editorconfig ./
COPY src/ src/
RUN dotnet publish src/TaskSystem.Server/TaskSystem.Server.csproj -c Release -o /app

FROM mcr.microsoft.com/dotnet/aspnet:10.0
WORKDIR /app
COPY --from=build /app ./
# The database lives on a volume owned by the image's non-root "app" user.
RUN mkdir -p /data && chown app:app /data
USER app
ENV URLS=http://+:4000 \
    ASPNETCORE_HTTP_PORTS= \
    TaskSystem__ConnectionString="Data Source=/data/tasks.db"
VOLUME /data
EXPOSE 4000
# The runtime image has no curl: the server binary probes itself.
HEALTHCHECK --interval=10s --timeout=5s --start-period=15s --retries=3 \
    CMD ["dotnet", "TaskSystem.Server.dll", "healthcheck", "http://localhost:4000/health/live"]
# SIGTERM starts a graceful shutdown: running tasks get TaskSystem:ShutdownTimeout, then go back to the queue.
STOPSIGNAL SIGTERM
ENTRYPOINT ["dotnet", "TaskSystem.Server.dll"]
