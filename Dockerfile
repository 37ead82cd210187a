# syntax=docker/dockerfile:1
# The TaskSystem server: the SDK image builds, the ASP.NET runtime image runs it as a non-root user.
# The publish command below is the one CI runs (.ci/run), so a broken publish fails CI before it breaks this image.

FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /source
COPY global.json Directory.Build.props Directory.Packages.props BannedSymbols.txt .editorconfig ./
# Restore from the project files alone, in a layer of its own: a change to the sources reuses the restored packages.
# These are the server's project and every project it references (a test checks the list and runs this restore).
COPY src/TaskSystem/TaskSystem.csproj src/TaskSystem/
COPY src/TaskSystem.PostgreSql/TaskSystem.PostgreSql.csproj src/TaskSystem.PostgreSql/
COPY src/TaskSystem.AspNetCore/TaskSystem.AspNetCore.csproj src/TaskSystem.AspNetCore/
COPY src/TaskSystem.Server/TaskSystem.Server.csproj src/TaskSystem.Server/
RUN dotnet restore src/TaskSystem.Server/TaskSystem.Server.csproj
COPY src/ src/
RUN dotnet publish src/TaskSystem.Server/TaskSystem.Server.csproj -c Release --no-restore -o /app

FROM mcr.microsoft.com/dotnet/aspnet:10.0
WORKDIR /app
COPY --from=build /app ./
# The database lives on a volume owned by the image's non-root "app" user.
RUN mkdir -p /data && chown app:app /data
USER app
# All interfaces: the server refuses to start without an API key (-e TaskSystem__ApiKeys__0=...) unless
# -e TaskSystem__AllowAnonymous=true says it is meant to be open. The health probes need no key.
ENV URLS=http://+:4000 \
    ASPNETCORE_HTTP_PORTS= \
    TaskSystem__ConnectionString="Data Source=/data/tasks.db"
VOLUME /data
EXPOSE 4000
# The runtime image has no curl: the server binary probes itself, on the address it listens on (from URLS or any
# other setting that moves the port, e.g. -e URLS=http://+:8080).
HEALTHCHECK --interval=10s --timeout=5s --start-period=15s --retries=3 \
    CMD ["dotnet", "TaskSystem.Server.dll", "healthcheck"]
# SIGTERM starts a graceful shutdown: running tasks get TaskSystem:ShutdownTimeout, then go back to the queue.
STOPSIGNAL SIGTERM
ENTRYPOINT ["dotnet", "TaskSystem.Server.dll"]
