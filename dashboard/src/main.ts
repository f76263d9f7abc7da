document.getElementById("app")!.textContent = "tmon dashboard";
